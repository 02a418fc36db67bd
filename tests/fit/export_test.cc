// SPDX-License-Identifier: MIT
#include "gaincell/fit/export.h"

#include <catch2/catch.hpp>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/fit/data_source.h"
#include "test_support.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <regex>
#include <sstream>

using namespace gaincell;

namespace {

fit::Model shipped(const std::string& name) {
  return fit::load_model_file(testing::source_dir() / "fits" / name);
}

// A test-side reading of the closed-form Verilog-A modules gaincell writes:
// the subset they use (real variables assigned in order, V(port), + - * /,
// unary -, min, max, exp, parentheses, one contribution I(out) <+ or
// V(out) <+). Anything else fails the test. By the Verilog-A convention,
// I(out) <+ y sends y from the external node into terminal out and through
// the module to ground.
class VaModule {
 public:
  explicit VaModule(const std::string& text) {
    std::string code;  // without // comments
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) code += line.substr(0, line.find("//")) + "\n";
    std::smatch m;
    REQUIRE(std::regex_search(code, m, std::regex(R"(module\s+(\w+)\s*\(([^)]*)\);)")));
    name = m[1];
    std::istringstream ports_in(m[2].str());
    for (std::string p; std::getline(ports_in, p, ',');) ports.push_back(std::regex_replace(p, std::regex(R"(\s)"), ""));
    REQUIRE(ports.back() == "out");
    ports.pop_back();
    REQUIRE(std::regex_search(code, m, std::regex(R"(\n\s*real\s+([^;]*);)")));
    std::istringstream vars_in(m[1].str());
    for (std::string v; std::getline(vars_in, v, ',');) declared_.push_back(std::regex_replace(v, std::regex(R"(\s)"), ""));
    const auto begin = code.find("analog begin"), end = code.rfind("end\nendmodule");
    REQUIRE(begin != std::string::npos);
    REQUIRE(end != std::string::npos);
    std::istringstream body(code.substr(begin + 12, end - begin - 12));
    for (std::string s; std::getline(body, s, ';');) {
      s = std::regex_replace(s, std::regex(R"(^\s+|\s+$)"), "");
      if (s.empty()) continue;
      if (std::regex_match(s, m, std::regex(R"(([IV])\(out\)\s*<\+\s*([\s\S]*))"))) {
        REQUIRE(contribution_.empty());
        is_current = m[1] == "I";
        contribution_ = m[2];
      } else {
        REQUIRE(std::regex_match(s, m, std::regex(R"((\w+)\s*=\s*([\s\S]*))")));
        REQUIRE(std::find(declared_.begin(), declared_.end(), std::string(m[1])) != declared_.end());
        assignments_.emplace_back(m[1], m[2]);
      }
    }
    REQUIRE(!contribution_.empty());
  }

  // The contributed value (I(out) or V(out)) with the inputs as node voltages.
  double run(const std::vector<double>& inputs) const {
    REQUIRE(inputs.size() == ports.size());
    std::map<std::string, double> volts, vars;
    for (std::size_t d = 0; d < ports.size(); ++d) volts[ports[d]] = inputs[d];
    for (const auto& [var, expr] : assignments_) vars[var] = Expr{expr, volts, vars}.all();
    return Expr{contribution_, volts, vars}.all();
  }

  std::string name;
  std::vector<std::string> ports;  // the inputs' ports, without out
  bool is_current = false;

 private:
  struct Expr {
    const std::string& s;
    const std::map<std::string, double>& volts;
    const std::map<std::string, double>& vars;
    std::size_t pos = 0;

    double all() {
      const double v = sum();
      skip();
      INFO(s);
      REQUIRE(pos == s.size());
      return v;
    }
    void skip() {
      while (pos < s.size() && std::isspace(static_cast<unsigned char>(s[pos])) != 0) ++pos;
    }
    bool eat(char c) {
      skip();
      if (pos < s.size() && s[pos] == c) {
        ++pos;
        return true;
      }
      return false;
    }
    void expect(char c) {
      INFO(s << " at " << pos << ": expected " << c);
      REQUIRE(eat(c));
    }
    double sum() {
      double v = product();
      for (;;) {
        if (eat('+')) {
          v += product();
        } else if (eat('-')) {
          v -= product();
        } else {
          return v;
        }
      }
    }
    double product() {
      double v = unary();
      for (;;) {
        if (eat('*')) {
          v *= unary();
        } else if (eat('/')) {
          v /= unary();
        } else {
          return v;
        }
      }
    }
    double unary() { return eat('-') ? -unary() : primary(); }
    double primary() {
      if (eat('(')) {
        const double v = sum();
        expect(')');
        return v;
      }
      skip();
      INFO(s << " at " << pos);
      REQUIRE(pos < s.size());
      if (std::isdigit(static_cast<unsigned char>(s[pos])) != 0) {
        double v = 0;
        const auto [end, ec] = std::from_chars(s.data() + pos, s.data() + s.size(), v);
        REQUIRE(ec == std::errc());
        pos = static_cast<std::size_t>(end - s.data());
        return v;
      }
      const std::size_t start = pos;
      while (pos < s.size() && (std::isalnum(static_cast<unsigned char>(s[pos])) != 0 || s[pos] == '_')) ++pos;
      const std::string id = s.substr(start, pos - start);
      REQUIRE(!id.empty());
      if (id == "V") {
        expect('(');
        const std::size_t p0 = pos;
        while (pos < s.size() && s[pos] != ')') ++pos;
        const std::string port = std::regex_replace(s.substr(p0, pos - p0), std::regex(R"(\s)"), "");
        expect(')');
        REQUIRE(volts.count(port) == 1);
        return volts.at(port);
      }
      if (id == "min" || id == "max") {
        expect('(');
        const double a = sum();
        expect(',');
        const double b = sum();
        expect(')');
        return id == "min" ? std::min(a, b) : std::max(a, b);
      }
      if (id == "exp") {
        expect('(');
        const double a = sum();
        expect(')');
        return std::exp(a);
      }
      INFO("variable " << id);
      REQUIRE(vars.count(id) == 1);
      return vars.at(id);
    }
  };

  std::vector<std::string> declared_;
  std::vector<std::pair<std::string, std::string>> assignments_;
  std::string contribution_;
};

// The sign convention of docs/fitting.md, one check for every export of a
// current: into_out[k] is the current (A) flowing from the external node into
// terminal out at points[k], however the export was run; it must equal the
// model file's value there within `tolerance` of the largest |value|.
// Returns the largest difference as a fraction of that.
double check_into_out(const fit::Model& model, const std::vector<std::vector<double>>& points,
                      const std::vector<double>& into_out, double tolerance) {
  REQUIRE(fit::info_of(model).output.unit == "A");
  REQUIRE(into_out.size() == points.size());
  double full_scale = 0, worst = 0;
  for (const auto& x : points) full_scale = std::max(full_scale, std::abs(fit::evaluate(model, x)));
  REQUIRE(full_scale > 0);
  for (std::size_t k = 0; k < points.size(); ++k) {
    const double expected = fit::evaluate(model, points[k]);
    worst = std::max(worst, std::abs(into_out[k] - expected));
    INFO("point " << k << ": model " << expected << " A, into out " << into_out[k] << " A");
    CHECK(std::abs(into_out[k] - expected) <= tolerance * full_scale);
  }
  return worst / full_scale;
}

// Every combination of `per_axis` points per input over [min - 25 %, max + 25 %]
// of its range: inside, and outside where the inputs are clamped.
std::vector<std::vector<double>> around_ranges(const fit::Model& model, int per_axis) {
  std::vector<std::vector<double>> points = {{}};
  for (const auto& in : fit::info_of(model).inputs) {
    const double lo = in.min - 0.25 * (in.max - in.min), hi = in.max + 0.25 * (in.max - in.min);
    std::vector<std::vector<double>> next;
    for (const auto& p : points) {
      for (int i = 0; i < per_axis; ++i) {
        auto q = p;
        q.push_back(lo + (hi - lo) * i / (per_axis - 1));
        next.push_back(q);
      }
    }
    points = next;
  }
  return points;
}

VaModule export_va(const fit::Model& model, const std::filesystem::path& dir, const std::string& stem) {
  fit::ExportOptions options;
  options.stem = stem;
  const auto files = fit::export_model(model, "verilog-a", dir, options);
  REQUIRE(files.size() == 1);
  const std::string text = read_text_file(files[0]);
  CHECK(text.find("$table_model") == std::string::npos);
  return VaModule(text);
}

}  // namespace

TEST_CASE("csv and json exports of a model read back to the model's values", "[unit][fit]") {
  testing::TempDir dir;
  // A shipped model: the C2P HardSigmoid (one input).
  const auto model = shipped("c2p.hardsigmoid.json");
  fit::ExportOptions options;
  options.grid_points = 7;
  options.stem = "c2p";
  const auto files = fit::export_model(model, "csv", dir.path(), options);
  REQUIRE(files.size() == 1);
  // The CSV is a fit data file: read it back as one and compare with the model.
  fit::DataReport report;
  const auto data = fit::load_csv_data(files[0], {{"q_in"}, "pw_s", {}}, &report);
  REQUIRE(data.output.values.size() == 7);
  CHECK(data.inputs[0].unit == "C");
  CHECK(data.output.unit == "s");
  for (std::size_t k = 0; k < 7; ++k) {
    const double x = data.inputs[0].values[k];
    CHECK(data.output.values[k] == fit::evaluate(model, std::vector<double>{x}));
  }
  CHECK(data.inputs[0].values.front() == fit::info_of(model).inputs[0].min);
  CHECK(data.inputs[0].values.back() == fit::info_of(model).inputs[0].max);
  const auto json = fit::export_model(model, "json", dir.path(), options);
  CHECK(fit::to_json(fit::load_model_file(json[0])) == fit::to_json(model));
  CHECK_THROWS_WITH(fit::export_model(model, "spice3", dir.path(), options),
                    "error GC-1613: unknown export format 'spice3'; this gaincell writes json, csv, reference, "
                    "xspice and verilog-a");
}

TEST_CASE("reference export: the authors' layout, units and linear slope", "[unit][fit]") {
  testing::TempDir dir;
  // The authors' own coefficients as a model in normalized units: the export
  // must hand them back unchanged and find their linear slope.
  const std::array<double, 10> authors = {0.17393044, 0.15653739, 0.14088365, 0.12679529, 5.51975209,
                                          4.96777688, 4.4709992,  -1.44776001, -1.30298401, 46.05483778};
  fit::ModelInfo info;
  info.inputs = {{"q", "1", 0, 1}, {"k", "V", 0, 0.9}};
  info.output = {"s", "1", -11, 11};
  const fit::Model model = fit::PaperPolyModel(info, authors, 0.45, 0.9, {});
  fit::ExportOptions options;
  options.stem = "authors";
  const auto files = fit::export_model(model, "reference", dir.path(), options);
  const auto j = nlohmann::json::parse(read_text_file(files[0]));
  for (std::size_t k = 0; k < 10; ++k) CHECK(j["coefficients"][k].get<double>() == authors[k]);
  CHECK(j["collapsed_at_vin"][0].get<double>() == Approx(0.5213636).epsilon(1e-6));
  CHECK(j["collapsed_at_vin"][3].get<double>() == Approx(46.05483778).epsilon(1e-9));
  // Their 19.3 is the regression slope of this curve: 19.21 over K uniform in [0, 0.9] V.
  CHECK(j["linear_slope"].get<double>() == Approx(19.208).epsilon(1e-4));
  CHECK(j["linear_slope"].get<double>() == Approx(19.3).epsilon(0.005));

  // A physical fit (charge in C vs pulse width in s): normalized by t_max and q_sat / s_sat.
  const auto shipped = fit::load_model_file(testing::source_dir() / "fits/pushpull.paper_poly.json");
  options.stem = "pushpull";
  const auto ours = nlohmann::json::parse(read_text_file(fit::export_model(shipped, "reference", dir.path(), options)[0]));
  const double factor = 15e-9 / (1e-12 / 80);
  const auto& pp = std::get<fit::PaperPolyModel>(shipped);
  for (std::size_t k = 0; k < 10; ++k) {
    CHECK(ours["coefficients"][k].get<double>() == Approx(pp.coefficients()[k] * factor).epsilon(1e-12));
  }
  CHECK(ours["normalization"]["q_unit_c"].get<double>() == Approx(12.5e-15));
  CHECK_THROWS_WITH(fit::export_model(fit::load_model_file(testing::source_dir() / "fits/c2p.hardsigmoid.json"), "reference",
                                      dir.path(), options),
                    "error GC-1613: the reference format holds paper-poly models; this is a hard_sigmoid model");
}


TEST_CASE("Verilog-A closed forms compute the model file's values, current by the export sign convention",
          "[unit][fit]") {
  testing::TempDir dir;
  // Every closed-form kind: the shipped fits, and models built here where a
  // shape is not shipped (paper-poly with a vin input, poly in 1 and 3 inputs).
  std::vector<std::pair<std::string, fit::Model>> models = {
      {"pushpull.paper_poly", shipped("pushpull.paper_poly.json")},
      {"pushpull.read_current.poly", shipped("pushpull.read_current.poly.json")},
      {"pushpull.retention.exp_decay", shipped("pushpull.retention.exp_decay.json")},
      {"gc3t.retention.exp_decay", shipped("gc3t.retention.exp_decay.json")},
      {"c2p.hardsigmoid", shipped("c2p.hardsigmoid.json")}};
  {
    // The authors' coefficients (eq. 4), with vin as a third input.
    fit::ModelInfo info;
    info.inputs = {{"t_pulse", "s", 0, 15e-9}, {"v_store", "V", 0, 0.9}, {"vin", "V", 0.6, 0.9}};
    info.output = {"q_line_c", "C", 0, 1e-12};
    const std::array<double, 10> c = {0.17393044, 0.15653739, 0.14088365, 0.12679529, 5.51975209,
                                      4.96777688, 4.4709992,  -1.44776001, -1.30298401, 46.05483778};
    models.emplace_back("paper3", fit::PaperPolyModel(info, c, 0.45, 0.9, {}));
  }
  {
    fit::ModelInfo info;
    info.inputs = {{"x", "V", -1, 3}};
    info.output = {"y", "V", -5, 5};
    models.emplace_back("poly1", fit::PolyModel(info, 5, {1}, {2}, {0.5, -1, 2, 0.25, -3, 1.5}, {}));
    info.inputs = {{"a", "V", 0, 1}, {"b", "s", 1e-9, 3e-9}, {"c", "V", -0.2, 0.2}};
    std::vector<double> c;
    for (std::size_t k = 0; k < fit::PolyModel::monomials(3, 2).size(); ++k) c.push_back(0.3 * std::cos(1.0 + static_cast<double>(k)));
    models.emplace_back("poly3", fit::PolyModel(info, 2, {0.5, 2e-9, 0}, {0.5, 1e-9, 0.2}, c, {}));
  }
  const std::size_t n = models.size();
  // The same models with a current output: the contribution becomes I(out).
  for (std::size_t k = 0; k < n; ++k) {
    fit::Model m = models[k].second;
    fit::info_of(m).output.unit = "A";
    models.emplace_back(models[k].first + ".current", m);
  }
  for (const auto& [stem, model] : models) {
    INFO(stem);
    const VaModule va = export_va(model, dir.path(), stem);
    CHECK(va.name == fit::verilog_a_identifier(stem));
    const auto points = around_ranges(model, fit::info_of(model).inputs.size() == 3 ? 6 : 9);
    if (fit::info_of(model).output.unit == "A") {
      REQUIRE(va.is_current);
      std::vector<double> into_out;  // I(out) <+ y: y flows from the node into out
      for (const auto& x : points) into_out.push_back(va.run(x));
      check_into_out(model, points, into_out, 1e-12);
    } else {
      REQUIRE_FALSE(va.is_current);
      double full_scale = 0;
      for (const auto& x : points) full_scale = std::max(full_scale, std::abs(fit::evaluate(model, x)));
      for (const auto& x : points) CHECK(std::abs(va.run(x) - fit::evaluate(model, x)) <= 1e-12 * full_scale);
    }
  }
  // A number a module cannot hold is refused, naming its place in the model file.
  fit::Model bad = shipped("pushpull.read_current.poly.json");
  auto& poly = std::get<fit::PolyModel>(bad);
  std::vector<double> c = poly.coefficients();
  c[3] = std::nan("");
  bad = fit::PolyModel(poly.info(), poly.degree(), poly.centers(), poly.half_ranges(), c, poly.rank_info());
  fit::ExportOptions options;
  options.stem = "bad";
  CHECK_THROWS_WITH(fit::export_model(bad, "verilog-a", dir.path(), options),
                    "error GC-1615: verilog-a export 'bad': model file /coefficients/3/value is nan (null); expected a "
                    "finite number (a closed-form Verilog-A module cannot hold it; refit the model or export it as csv)");
}

TEST_CASE("Verilog-A names are legal identifiers; a lut keeps $table_model with its note", "[unit][fit]") {
  CHECK(fit::verilog_a_identifier("read_current.lut") == "read_current_lut");
  CHECK(fit::verilog_a_identifier("GC-Read") == "gc_read");
  CHECK(fit::verilog_a_identifier("2t cell") == "m_2t_cell");
  CHECK(fit::verilog_a_identifier("") == "model");
  CHECK(fit::verilog_a_identifier("module") == "module_");
  CHECK(fit::verilog_a_identifier("exp") == "exp_");
  CHECK(fit::verilog_a_identifier("Electrical") == "electrical_");
  CHECK(fit::verilog_a_identifier("q\xc3\xa9") == "q__");  // UTF-8 bytes
  testing::TempDir dir;
  // Input names that are no identifiers, repeat `out`, a variable or each other.
  fit::ModelInfo info;
  info.inputs = {{"out", "V", 0, 1}, {"Out", "V", 0, 1}, {"gc_y", "V", 0, 1}, {"1st-input", "V", 0, 1}};
  info.output = {"i", "A", 0, 1};
  std::vector<double> c(fit::PolyModel::monomials(4, 1).size(), 1e-6);
  const fit::Model odd = fit::PolyModel(info, 1, {0.5, 0.5, 0.5, 0.5}, {0.5, 0.5, 0.5, 0.5}, c, {});
  const VaModule va = export_va(odd, dir.path(), "2nd.Cell");
  CHECK(va.name == "m_2nd_cell");
  CHECK(va.ports == std::vector<std::string>{"out_2", "out_3", "gc_y_2", "m_1st_input"});
  const std::string text = read_text_file(dir / "2nd.cell.va");
  CHECK(text.find("// Module name m_2nd_cell: derived from the export stem '2nd.Cell'") != std::string::npos);
  CHECK(text.find(" out_2 (input 'out' [V]), out_3 (input 'Out' [V]),") != std::string::npos);
  CHECK(va.run({1, 1, 1, 1}) == Approx(5e-6));

  // The shipped lut under the flow's stem: a legal name, the table read
  // with the export sign convention (no minus), the note on simulators.
  const auto lut = shipped("pushpull.read_current.lut.json");
  fit::ExportOptions options;
  options.stem = "read_current.lut";
  const auto files = fit::export_model(lut, "verilog-a", dir.path(), options);
  REQUIRE(files.size() == 2);
  const std::string table = read_text_file(dir / "read_current.lut.va");
  CHECK(table.find("`include \"disciplines.vams\"") != std::string::npos);
  CHECK(table.find("module read_current_lut(v_store, v_line, out);") != std::string::npos);
  CHECK(table.find("electrical v_store, v_line, out;") != std::string::npos);
  CHECK(table.find("    I(out) <+ $table_model(V(v_store), V(v_line), \"read_current.lut.tbl\", \"1C,1C\");\n") !=
        std::string::npos);
  CHECK(table.find("// $table_model is for Spectre/HSPICE-class simulators") != std::string::npos);
  // The data: the lut's own 19 x 5 grid (plus the origin on v_line), the last
  // input fastest, equal to the model.
  std::istringstream in(read_text_file(dir / "read_current.lut.tbl"));
  std::vector<std::array<double, 3>> rows;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream cols(line);
    std::array<double, 3> r{};
    REQUIRE(static_cast<bool>(cols >> r[0] >> r[1] >> r[2]));
    rows.push_back(r);
  }
  REQUIRE(rows.size() == 19 * 6);  // v_line's range excludes 0: the origin is added
  CHECK(rows[0][1] == 0.0);
  CHECK(rows[1][1] == 0.35);
  CHECK(rows[0][0] == rows[5][0]);  // v_line varies fastest
  CHECK(rows[6][0] > rows[0][0]);
  for (const auto& r : rows) CHECK(r[2] == fit::evaluate(lut, std::vector<double>{r[0], r[1]}));
}

TEST_CASE("XSPICE in ngspice and Verilog-A agree with the model file under one sign convention", "[ngspice][fit]") {
  testing::TempDir dir;
  // The shipped two-input read-current model: i_read(v_store, v_line).
  const auto model = shipped("pushpull.read_current.poly.json");
  fit::ExportOptions options;
  options.stem = "gc_read";
  options.grid_points = 32;
  const auto files = fit::export_model(model, "xspice", dir.path(), options);
  REQUIRE(files.size() == 2);
  // The characterized conditions: 19 stored voltages x 5 line voltages.
  std::vector<std::vector<double>> points;
  for (int i = 0; i < 19; ++i) {
    for (int j = 0; j < 5; ++j) points.push_back({0.05 * i, 0.35 + 0.05 * j});
  }
  // XSPICE: out held at 0.45 V by VOUT; i(vout) flows from out through VOUT to
  // ground, so the current from the node into the model's out is -i(vout).
  std::string net = "xspice round trip\n.include gc_read.sub\nVX v_store 0 0\nVY v_line 0 0.35\n"
                    "X1 v_store v_line out gc_read\nVOUT out 0 0.45\n.control\nset numdgt=12\n";
  for (const auto& p : points) {
    net += "alter vx dc=" + std::to_string(p[0]) + "\nalter vy dc=" + std::to_string(p[1]) + "\nop\nprint i(vout)\n";
  }
  net += "quit 0\n.endc\n.end\n";
  testing::write_file(dir / "rt.cir", net);
  const auto run = testing::run_command("ngspice -b rt.cir", dir.path());
  INFO(run.output.substr(0, 2000));
  REQUIRE(run.exit_code == 0);
  std::vector<double> xspice_into_out;
  const std::regex line(R"(i\(vout\) = ([-+0-9.eE]+))");
  for (auto it = std::sregex_iterator(run.output.begin(), run.output.end(), line); it != std::sregex_iterator(); ++it) {
    xspice_into_out.push_back(-std::stod((*it)[1]));
  }
  REQUIRE(xspice_into_out.size() == points.size());
  const double xspice_worst = check_into_out(model, points, xspice_into_out, 0.01);
  WARN("XSPICE round trip: largest difference " << 100 * xspice_worst << " % of full scale");
  // Verilog-A: I(out) <+ y flows from the node into out; the same check.
  const VaModule va = export_va(model, dir.path(), "gc_read");
  REQUIRE(va.is_current);
  std::vector<double> va_into_out;
  for (const auto& p : points) va_into_out.push_back(va.run(p));
  check_into_out(model, points, va_into_out, 1e-12);
}

TEST_CASE("export_model_file names the export after the model file unless a stem is given", "[unit][fit]") {
  testing::TempDir dir;
  const auto file = testing::source_dir() / "fits/c2p.hardsigmoid.json";
  fit::ExportOptions options;
  options.grid_points = 5;
  const auto written = fit::export_model_file(file, "csv", dir.path(), options);
  REQUIRE(written.size() == 1);
  CHECK(written[0] == dir.path() / "c2p.hardsigmoid.csv");
  CHECK(read_text_file(written[0]) == read_text_file(fit::export_model(shipped("c2p.hardsigmoid.json"), "csv",
                                                                         dir.path() / "direct", options)[0]));
  options.stem = "conv";
  CHECK(fit::export_model_file(file, "json", dir.path(), options) ==
        std::vector<std::filesystem::path>{dir.path() / "conv.json"});
  CHECK(fit::to_json(fit::load_model_file(dir.path() / "conv.json")) == fit::to_json(shipped("c2p.hardsigmoid.json")));
}
