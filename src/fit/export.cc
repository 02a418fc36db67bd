// SPDX-License-Identifier: MIT
#include "gaincell/fit/export.h"

#include <cctype>
#include <cmath>
#include <fstream>
#include <set>
#include <type_traits>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/strings.h"
#include "gaincell/core/si_value.h"
#include "grid.h"

namespace gaincell::fit {
namespace {

std::filesystem::path write(const std::filesystem::path& path, const std::string& text) {
  write_text_file(path, text);
  return path;
}

// n points over [min, max], hitting the end exactly.
std::vector<double> linspace_axis(const Variable& v, std::size_t n) {
  std::vector<double> g;
  for (std::size_t i = 0; i < n; ++i) {
    g.push_back(i + 1 == n ? v.max : v.min + (v.max - v.min) * static_cast<double>(i) / static_cast<double>(n - 1));
  }
  return g;
}

// One line per point of the grid `axes` (row-major, the last input fastest):
// the inputs, then the model's value, joined by `sep`.
std::string grid_rows(const Model& model, const std::vector<std::vector<double>>& axes, const std::string& sep) {
  std::string out;
  const std::size_t total = detail::grid_count(axes);
  for (std::size_t k = 0; k < total; ++k) {
    const std::vector<double> x = detail::grid_point(k, axes);
    for (double xi : x) out += gaincell::format_exact(xi) + sep;
    out += gaincell::format_exact(evaluate(model, x)) + "\n";
  }
  return out;
}

constexpr std::size_t kDefaultGrid = 16;

// The grid of input d: a lut's own nodes when no size is asked for (its
// measured points stay exact), else n points over the valid range.
std::vector<double> input_axis(const Model& model, std::size_t d, std::size_t n) {
  const auto* lut = std::get_if<LutModel>(&model);
  if (n == 0 && lut != nullptr) return lut->grids().at(d);
  return linspace_axis(info_of(model).inputs.at(d), n == 0 ? kDefaultGrid : n);
}

// Row-major grid over the inputs (the last input fastest).
std::string csv_table(const Model& model, std::size_t n) {
  const ModelInfo& info = info_of(model);
  std::string out;
  for (const auto& in : info.inputs) out += in.name + "[" + in.unit + "],";
  out += info.output.name + "[" + info.output.unit + "]\n";
  std::vector<std::vector<double>> axes;
  for (std::size_t d = 0; d < info.inputs.size(); ++d) axes.push_back(input_axis(model, d, n));
  return out + grid_rows(model, axes, ",");
}

// A paper-poly model in the reference simulator's layout and units.
nlohmann::json reference_json(const Model& model, const ExportOptions& o) {
  const auto* m = std::get_if<PaperPolyModel>(&model);
  if (m == nullptr) {
    throw InputError("GC-1613", "the reference format holds paper-poly models; this is a " +
                                    kind_name(model) + " model");
  }
  const ModelInfo& info = m->info();
  // y = x_pw * sum C_ij (v - offset)^i vin^j. In the reference, Q = x_pw / t_max
  // (when x_pw is a time) and S = y / q_unit (when y is a charge).
  const double time_scale = info.inputs.at(0).unit == "s" ? o.t_max_s : 1.0;
  const double q_unit = info.output.unit == "C" ? o.q_sat_c / o.s_sat : 1.0;
  const double factor = time_scale / q_unit;
  nlohmann::json c = nlohmann::json::array();
  for (double v : m->coefficients()) c.push_back(v * factor);
  std::array<double, 4> a = m->collapsed();
  nlohmann::json collapsed = nlohmann::json::array();
  for (double& ai : a) {
    ai *= factor;
    collapsed.push_back(ai);
  }
  return nlohmann::json{
      {"format", "gaincell-reference/1"},
      {"layout", "C[k] for i in 0..3 for j in 0..3-i (i: power of K - offset, j: power of Vin), as the authors' "
                 "simulator lists its 10 coefficients"},
      {"coefficients", c},
      {"offset_v", m->offset_v()},
      {"vin_v", m->vin_v()},
      {"collapsed_at_vin", collapsed},
      {"linear_slope", equivalent_linear_slope(a)},
      {"normalization",
       {{"t_max_s", time_scale == 1.0 ? nlohmann::json(nullptr) : nlohmann::json(o.t_max_s)},
        {"q_unit_c", q_unit == 1.0 ? nlohmann::json(nullptr) : nlohmann::json(q_unit)},
        {"q_sat_c", o.q_sat_c},
        {"s_sat", o.s_sat},
        {"rule", "Q = pulse width / t_max; S = charge / q_unit with q_unit = q_sat / s_sat, so the charge-to-pulse "
                 "converter saturates at S = s_sat"}}},
      {"fit_quality", {{"r_squared", info.quality.r_squared}, {"max_abs_residual", info.quality.max_abs_residual},
                       {"unit", info.output.unit}}},
      {"provenance", info.provenance}};
}

// The grids of all inputs for a table (input_axis), each plus 0 when its
// range excludes it (ngspice's table models use the origin at the operating point).
std::vector<std::vector<double>> table_axes(const Model& model, std::size_t n) {
  std::vector<std::vector<double>> axes;
  for (std::size_t d = 0; d < info_of(model).inputs.size(); ++d) {
    const Variable& v = info_of(model).inputs[d];
    axes.push_back(input_axis(model, d, n));
    if (v.min > 0) axes.back().insert(axes.back().begin(), 0.0);
    if (v.max < 0) axes.back().push_back(0.0);
  }
  return axes;
}

// The XSPICE table2D/table3D data file: header, grids, then the values, a
// row per y for each z.
std::string xspice_table(const Model& model, const std::vector<std::vector<double>>& axes) {
  const ModelInfo& info = info_of(model);
  const std::size_t dims = axes.size();
  std::string tbl = "* gaincell XSPICE table" + std::to_string(dims) + "D of model '" + info.output.name + "' [" +
                    info.output.unit + "]\n* inputs:";
  for (const auto& in : info.inputs) tbl += " " + in.name + " [" + in.unit + "]";
  tbl += "\n* values are the model evaluated on the grid (inputs clamped to their valid ranges)\n";
  for (const auto& a : axes) tbl += std::to_string(a.size()) + "\n";
  for (const auto& a : axes) {
    for (std::size_t i = 0; i < a.size(); ++i) tbl += (i ? " " : "") + gaincell::format_exact(a[i]);
    tbl += "\n";
  }
  std::vector<double> x(dims);
  const std::size_t nz = dims == 3 ? axes[2].size() : 1;
  for (std::size_t k = 0; k < nz; ++k) {
    if (dims == 3) {
      x[2] = axes[2][k];
      tbl += "*table " + gaincell::format_exact(x[2]) + "\n";
    }
    for (std::size_t j = 0; j < axes[1].size(); ++j) {  // row j: y_j
      x[1] = axes[1][j];
      for (std::size_t i = 0; i < axes[0].size(); ++i) {  // column i: x_i
        x[0] = axes[0][i];
        tbl += (i ? " " : "") + gaincell::format_exact(evaluate(model, x));
      }
      tbl += "\n";
    }
  }
  return tbl;
}

// The subcircuit that wraps the table file `stem`.tbl as an XSPICE table model.
std::string xspice_wrapper(const ModelInfo& info, const std::string& stem) {
  const bool current = info.output.unit == "A";
  std::string ports, inputs;
  for (const auto& in : info.inputs) {
    ports += lower(in.name) + " ";
    inputs += "%vd(" + lower(in.name) + " 0) ";
  }
  std::string sub = "* gaincell XSPICE wrapper of model '" + info.output.name + "' [" + info.output.unit + "]\n";
  sub += "* Ports: the inputs as node voltages (value in the input's SI unit), then out.\n";
  sub += current ? "* Output: a current (A) through out to ground. Sign convention (all gaincell exports of a current,\n"
                   "* docs/fitting.md): a positive value flows from the external node INTO out (the model sinks it), as\n"
                   "* the characterization's i(vsense) counts the line's current into the cell; %id(out 0) is exactly\n"
                   "* that; with out held by a source `VOUT out 0 DC v`, ngspice's i(vout) = -value.\n"
                 : "* The table drives node out to the model's value (in its unit, as a voltage).\n";
  sub += "* The table file is named relative to the working directory: run ngspice in this directory\n";
  sub += "* (or give file= an absolute, lower-case path; ngspice lower-cases it).\n";
  sub += ".subckt " + stem + " " + ports + "out\n";
  sub += "a_" + stem + " " + inputs + (current ? "%id(out 0)" : "%vd(out 0)") + " " + stem + "_tab\n";
  sub += ".model " + stem + "_tab table" + std::to_string(info.inputs.size()) + "d (file=\"" + stem + ".tbl\" order=2)\n";
  sub += ".ends " + stem + "\n";
  return sub;
}

// XSPICE table2D/table3D data file and a wrapper subcircuit (docs/fitting.md).
std::vector<std::filesystem::path> xspice_export(const Model& model, const std::filesystem::path& dir,
                                                 const std::string& stem_in, std::size_t n) {
  const std::size_t dims = info_of(model).inputs.size();
  if (dims != 2 && dims != 3) {
    throw InputError("GC-1613", "XSPICE tables take 2 or 3 inputs; this model has " +
                                    std::to_string(dims) + " (export it as csv)");
  }
  // ngspice lower-cases names in model cards: keep every name lower-case.
  const std::string stem = lower(stem_in);
  const std::string tbl = xspice_table(model, table_axes(model, n == 0 ? 0 : std::max<std::size_t>(n, 4)));
  return {write(dir / (stem + ".tbl"), tbl), write(dir / (stem + ".sub"), xspice_wrapper(info_of(model), stem))};
}

// ---- Verilog-A ---------------------------------------------------------------

// Reserved words of Verilog-AMS (LRM 2.4 Annex B: Verilog-2005's keywords, the
// AMS ones and the analog built-in functions) and the lower-case discipline
// and nature names of disciplines.vams (the LRM's and ADMS's). A module or a
// port named like one of them does not compile.
bool is_verilog_a_reserved(const std::string& id) {
  static const std::set<std::string> kReserved = {
      "above", "abs", "absdelay", "absdelta", "abstol", "access", "acos", "acosh", "ac_stim", "aliasparam",
      "always", "analog", "analysis", "and", "asin", "asinh", "assert", "assign", "atan", "atan2", "atanh",
      "automatic", "begin", "branch", "buf", "bufif0", "bufif1", "case", "casex", "casez", "ceil", "cell",
      "cmos", "config", "connect", "connectmodule", "connectrules", "continuous", "cos", "cosh", "cross", "ddt",
      "ddt_nature", "ddx", "deassign", "default", "defparam", "design", "disable", "discipline", "discrete",
      "domain", "driver_update", "edge", "else", "end", "endcase", "endconfig", "endconnectrules",
      "enddiscipline", "endfunction", "endgenerate", "endmodule", "endnature", "endparamset", "endprimitive",
      "endspecify", "endtable", "endtask", "event", "exclude", "exp", "final_step", "flicker_noise", "floor",
      "flow", "for", "force", "forever", "fork", "from", "function", "generate", "genvar", "ground", "highz0",
      "highz1", "hypot", "idt", "idtmod", "idt_nature", "if", "ifnone", "incdir", "include", "inf", "initial",
      "initial_step", "inout", "input", "instance", "integer", "join", "laplace_nd", "laplace_np", "laplace_zd",
      "laplace_zp", "large", "last_crossing", "liblist", "library", "limexp", "ln", "localparam", "log",
      "macromodule", "max", "medium", "merged", "min", "module", "nand", "nature", "negedge", "net_resolution",
      "nmos", "noise_table", "noise_table_log", "nor", "noshowcancelled", "not", "notif0", "notif1", "or",
      "output", "parameter", "paramset", "pmos", "posedge", "potential", "pow", "primitive", "pull0", "pull1",
      "pulldown", "pullup", "pulsestyle_ondetect", "pulsestyle_onevent", "rcmos", "real", "realtime", "reg",
      "release", "repeat", "resolveto", "rnmos", "rpmos", "rtran", "rtranif0", "rtranif1", "scalared",
      "showcancelled", "signed", "sin", "sinh", "slew", "small", "specify", "specparam", "split", "sqrt",
      "string", "strong0", "strong1", "supply0", "supply1", "table", "tan", "tanh", "task", "time", "timer",
      "tran", "tranif0", "tranif1", "transition", "tri", "tri0", "tri1", "triand", "trior", "trireg", "units",
      "unsigned", "use", "uwire", "vectored", "wait", "wand", "weak0", "weak1", "while", "white_noise", "wire",
      "wor", "wreal", "xnor", "xor", "zi_nd", "zi_np", "zi_zd", "zi_zp",
      // disciplines.vams
      "logic", "ddiscrete", "electrical", "voltage", "current", "magnetic", "thermal", "kinematic",
      "kinematic_v", "rotational", "rotational_omega", "power", "flux", "temperature"};
  return kReserved.count(id) != 0;
}

// Names of the analog block's variables; ports must differ from them.
std::string va_local(const std::string& base, std::size_t d) { return "gc_" + base + std::to_string(d); }

// The module's ports: each input's legal identifier, renamed `name_2`,
// `name_3`, ... where it would repeat an earlier port, `out` or a variable.
std::vector<std::string> va_ports(const ModelInfo& info) {
  std::set<std::string> taken = {"out", "gc_y", "gc_d", "gc_vin"};
  for (std::size_t d = 0; d < info.inputs.size(); ++d) {
    taken.insert(va_local("x", d));
    taken.insert(va_local("u", d));
  }
  std::vector<std::string> ports;
  for (const auto& in : info.inputs) {
    const std::string base = verilog_a_identifier(in.name);
    std::string name = base;
    for (int k = 2; taken.count(name) != 0; ++k) name = base + "_" + std::to_string(k);
    taken.insert(name);
    ports.push_back(name);
  }
  return ports;
}

// Builds the closed-form module of one model; every number it writes goes
// through real(), which refuses non-finite values (GC-1615).
class VaWriter {
 public:
  VaWriter(const Model& model, std::string stem) : info_(info_of(model)), stem_(std::move(stem)) {}

  // A real literal: the shortest digits that round-trip, always with a '.'
  // or an exponent (Verilog-A's 1/2 is the integer 0), negative values in
  // parentheses. `where` is the value's JSON Pointer in the model file.
  std::string real(double value, const std::string& where) const {
    if (!std::isfinite(value)) {
      throw InputError("GC-1615", "verilog-a export '" + stem_ + "': model file " + where + " is " +
                                      (std::isnan(value) ? "nan (null)" : value > 0 ? "inf" : "-inf") +
                                      "; expected a finite number (a closed-form Verilog-A module cannot hold it; "
                                      "refit the model or export it as csv)");
    }
    std::string s = gaincell::format_exact(value);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return std::signbit(value) ? "(" + s + ")" : s;
  }

  // Input d's value clamped to its fitted range, as evaluate's kClamp does.
  std::string clamped(const std::vector<std::string>& ports, std::size_t d) const {
    const Variable& v = info_.inputs.at(d);
    const std::string at = "/inputs/" + std::to_string(d);
    return "min(max(V(" + ports.at(d) + "), " + real(v.min, at + "/min") + "), " + real(v.max, at + "/max") + ")";
  }

 private:
  const ModelInfo& info_;
  std::string stem_;
};

// "a * b * b" for factors a^1 b^2; "" for none.
std::string product(const std::vector<std::string>& factors, const std::vector<int>& exponents) {
  std::string out;
  for (std::size_t d = 0; d < factors.size(); ++d) {
    for (int e = 0; e < exponents[d]; ++e) out += " * " + factors[d];
  }
  return out;
}

// The analog block's variables and statements, the expression of the
// model's value (assigned to gc_y, the last variable) and the formula for
// the file's header, per kind.
struct VaBody {
  std::string formula;
  std::vector<std::string> variables;
  std::vector<std::string> statements;
  std::string value;
};

// Terms of a sum, one a line.
std::string va_sum(const std::vector<std::string>& terms) { return join(terms, "\n        + "); }

VaBody va_body(const PaperPolyModel& m, const VaWriter& w, const std::vector<std::string>& ports) {
  VaBody b;
  const bool has_vin = ports.size() == 3;
  b.formula = "y = x_pw * sum_{i=0..3} sum_{j=0..3-i} C_ij (v - " + gaincell::format_exact(m.offset_v()) +
              ")^i vin^j (the paper's eq. 4),\n// x_pw = V(" + ports[0] + ") not clamped (y is proportional to it), v = V(" +
              ports[1] + ") clamped" + (has_vin ? ", vin = V(" + ports[2] + ") clamped" : ", vin = " + gaincell::format_exact(m.vin_v()));
  b.variables = {"gc_x0", "gc_x1", "gc_vin", "gc_d"};
  b.statements.push_back("gc_x0 = V(" + ports[0] + ");");
  b.statements.push_back("gc_x1 = " + w.clamped(ports, 1) + ";");
  b.statements.push_back("gc_vin = " + (has_vin ? w.clamped(ports, 2) : w.real(m.vin_v(), "/parameters/vin_v")) + ";");
  b.statements.push_back("gc_d = gc_x1 - " + w.real(m.offset_v(), "/parameters/offset_v") + ";");
  std::vector<std::string> terms;
  for (int i = 0; i <= 3; ++i) {
    for (int j = 0; j <= 3 - i; ++j) {
      const int k = PaperPolyModel::index(i, j);
      terms.push_back(w.real(m.coefficients()[static_cast<std::size_t>(k)], "/coefficients/" + std::to_string(k) + "/value") +
                      product({"gc_d", "gc_vin"}, {i, j}));
    }
  }
  b.value = "gc_x0 * (" + va_sum(terms) + ")";
  return b;
}

VaBody va_body(const PolyModel& m, const VaWriter& w, const std::vector<std::string>& ports) {
  VaBody b;
  const std::size_t n = ports.size();
  b.formula = "y = sum_k c_k prod_d u_d^e_kd, total degree " + std::to_string(m.degree()) +
              ", u_d = (x_d - center_d) / half_range_d, each x_d clamped to its fitted range";
  std::vector<std::string> u;
  for (std::size_t d = 0; d < n; ++d) {
    b.variables.push_back(va_local("x", d));
    b.variables.push_back(va_local("u", d));
    u.push_back(va_local("u", d));
    const std::string at = "/parameters/";
    b.statements.push_back(va_local("x", d) + " = " + w.clamped(ports, d) + ";");
    b.statements.push_back(va_local("u", d) + " = (" + va_local("x", d) + " - " +
                           w.real(m.centers().at(d), at + "centers/" + std::to_string(d)) + ") / " +
                           w.real(m.half_ranges().at(d), at + "half_ranges/" + std::to_string(d)) + ";");
  }
  const auto mono = PolyModel::monomials(n, m.degree());
  std::vector<std::string> terms;
  for (std::size_t k = 0; k < mono.size(); ++k) {
    terms.push_back(w.real(m.coefficients().at(k), "/coefficients/" + std::to_string(k) + "/value") + product(u, mono[k]));
  }
  b.value = va_sum(terms);
  return b;
}

VaBody va_body(const ExpDecayModel& m, const VaWriter& w, const std::vector<std::string>& ports) {
  VaBody b;
  b.formula = "y = V_inf + (V0 - V_inf) exp(-t / tau), t = V(" + ports[0] + ") clamped to its fitted range";
  b.variables = {"gc_x0"};
  const std::string v_inf = w.real(m.v_inf_v(), "/coefficients/1/value");
  b.statements.push_back("gc_x0 = " + w.clamped(ports, 0) + ";");
  b.value = v_inf + " + (" + w.real(m.v0_v(), "/coefficients/2/value") + " - " + v_inf + ") * exp(-gc_x0 / " +
            w.real(m.tau_s(), "/coefficients/0/value") + ")";
  return b;
}

VaBody va_body(const HardSigmoidModel& m, const VaWriter& w, const std::vector<std::string>& ports) {
  VaBody b;
  b.formula = "y = y_low + (y_sat - y_low) clamp((x - x0) / (x_sat - x0), 0, 1), x = V(" + ports[0] +
              ") clamped to its fitted range";
  b.variables = {"gc_x0", "gc_u0"};
  const std::string x0 = w.real(m.x0(), "/coefficients/0/value");
  const std::string y_low = w.real(m.y_low(), "/coefficients/2/value");
  b.statements.push_back("gc_x0 = " + w.clamped(ports, 0) + ";");
  b.statements.push_back("gc_u0 = min(max((gc_x0 - " + x0 + ") / (" + w.real(m.x_sat(), "/coefficients/1/value") +
                         " - " + x0 + "), 0.0), 1.0);");
  b.value = y_low + " + (" + w.real(m.y_sat(), "/coefficients/3/value") + " - " + y_low + ") * gc_u0";
  return b;
}

constexpr const char* kSignConvention =
    "// Sign convention (all gaincell exports of a current, docs/fitting.md): a positive value is a current\n"
    "// flowing from the external node INTO terminal out (and through the model to ground): the model sinks it,\n"
    "// as the characterization's i(vsense) counts the line's current into the cell. Verilog-A's I(out) <+ y is\n"
    "// exactly that; with out held by a source `VOUT out 0 DC v`, ngspice's i(vout) = -y.\n";

// The file's header: what the module is, where its names come from, its
// ports and its output.
std::string va_header(const ModelInfo& info, const std::string& kind, const std::string& stem,
                      const std::string& module, const std::vector<std::string>& ports) {
  const bool current = info.output.unit == "A";
  std::string h = "// gaincell Verilog-A model of '" + info.output.name + "' [" + info.output.unit + "], kind " + kind + "\n";
  h += "// Module name " + module + ": derived from the export stem '" + stem +
       "'\n// (lower-cased; every character but a-z, 0-9 and _ made _; m_ before a leading digit; _ after a "
       "Verilog-A keyword).\n// Ports, in order:";
  for (std::size_t d = 0; d < ports.size(); ++d) {
    h += " " + ports[d] + " (input '" + info.inputs[d].name + "' [" + info.inputs[d].unit + "]),";
  }
  h += " out (output).\n// Each input is a node voltage whose value is the input's value in its SI unit (15 ns: 15e-9 V).\n";
  h += current ? "// Output: a current (A) through terminal out to ground, I(out).\n" + std::string(kSignConvention)
               : "// Output: node out driven to the model's value (in its unit " + info.output.unit +
                     ") as a voltage, V(out).\n";
  return h;
}

std::string va_module(const std::string& module, const std::vector<std::string>& ports) {
  std::string list;
  for (const auto& p : ports) list += p + ", ";
  return "`include \"disciplines.vams\"\n\nmodule " + module + "(" + list + "out);\n  inout " + list +
         "out;\n  electrical " + list + "out;\n";
}

std::string va_contribution(const ModelInfo& info, const std::string& value) {
  return info.output.unit == "A" ? "    I(out) <+ " + value + ";\n" : "    V(out) <+ " + value + ";\n";
}

// A closed-form module: the kind's equation, computing what evaluate does
// (with the out-of-range policy "clamp"; Verilog-A has no error path).
std::filesystem::path va_closed_form(const Model& model, const std::filesystem::path& dir, const std::string& stem) {
  const ModelInfo& info = info_of(model);
  const std::string module = verilog_a_identifier(stem);
  const std::vector<std::string> ports = va_ports(info);
  const VaWriter w(model, stem);
  const VaBody body = std::visit(
      [&](const auto& m) -> VaBody {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, LutModel>) {
          GC_CHECK(false) << "a lut has no closed form";
          return {};
        } else {
          return va_body(m, w, ports);
        }
      },
      model);
  std::string va = va_header(info, kind_name(model), stem, module, ports);
  va += "// Closed form: " + body.formula + ".\n";
  va += "// It computes what gaincell's fit::evaluate computes for the model file";
  va += info.out_of_range == OutOfRange::kError
            ? " inside the fitted ranges; the file's out-of-range policy is \"error\",\n// but Verilog-A has no error "
              "path: out of range the inputs are clamped.\n"
            : ", inputs clamped to the fitted ranges\n// (its out-of-range policy \"clamp\").\n";
  va += va_module(module, ports);
  va += "  real " + join(body.variables, ", ") + ", gc_y;\n  analog begin\n";
  for (const auto& s : body.statements) va += "    " + s + "\n";
  va += "    gc_y = " + body.value + ";\n";
  va += va_contribution(info, "gc_y") + "  end\nendmodule\n";
  return write(dir / (lower(stem) + ".va"), va);
}

// A "..." string literal of Verilog-A.
std::string va_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

// A lut: a $table_model module and its gridded data file (one sample per
// line, the last input varying fastest). Linear interpolation, clamped at the
// grid's ends. For Spectre/HSPICE-class simulators: no open Verilog-A
// compiler supports $table_model (ADMS rejects it; OpenVAF lacks it).
std::vector<std::filesystem::path> va_table(const Model& model, const std::filesystem::path& dir,
                                            const std::string& stem, std::size_t n) {
  const ModelInfo& info = info_of(model);
  const std::string module = verilog_a_identifier(stem);
  const std::vector<std::string> ports = va_ports(info);
  const std::string file = lower(stem);
  const std::vector<std::vector<double>> axes = table_axes(model, n);
  std::string data = "# gaincell $table_model data of model '" + info.output.name + "' [" + info.output.unit +
                     "]\n# columns:";
  for (const auto& in : info.inputs) data += " " + in.name + "[" + in.unit + "]";
  data += " " + info.output.name + "[" + info.output.unit + "]\n# gridded, the last input varying fastest\n";
  data += grid_rows(model, axes, " ");
  std::string args, control;
  for (std::size_t d = 0; d < ports.size(); ++d) {
    args += "V(" + ports[d] + "), ";
    control += std::string(d ? "," : "") + "1C";
  }
  std::string va = va_header(info, kind_name(model), stem, module, ports);
  va += "// Table: " + file + ".tbl (linear interpolation, clamped at the grid's ends).\n";
  va += "// $table_model is for Spectre/HSPICE-class simulators: no open Verilog-A compiler supports it (ADMS\n"
        "// rejects it, OpenVAF lacks it). For those, fit a poly model and export it: a closed-form module.\n";
  va += va_module(module, ports) + "  analog begin\n";
  va += va_contribution(info, "$table_model(" + args + va_string(file + ".tbl") + ", \"" + control + "\")");
  va += "  end\nendmodule\n";
  return {write(dir / (file + ".tbl"), data), write(dir / (file + ".va"), va)};
}

std::vector<std::filesystem::path> verilog_a_export(const Model& model, const std::filesystem::path& dir,
                                                    const std::string& stem, std::size_t n) {
  if (std::holds_alternative<LutModel>(model)) return va_table(model, dir, stem, n);
  return {va_closed_form(model, dir, stem)};
}

}  // namespace

std::string verilog_a_identifier(const std::string& text) {
  std::string id;
  for (char c : text) {
    const bool digit = c >= '0' && c <= '9', letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    id += letter ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : digit ? c : '_';
  }
  if (id.empty()) return "model";
  if (id[0] >= '0' && id[0] <= '9') id = "m_" + id;
  if (is_verilog_a_reserved(id)) id += "_";
  return id;
}

double equivalent_linear_slope(const std::array<double, 4>& a, double half_range_v) {
  // Over a symmetric range the even powers drop out: a_1 + a_3 <y^4>/<y^2>.
  return a[1] + a[3] * 0.6 * half_range_v * half_range_v;
}

std::vector<std::filesystem::path> export_model(const Model& model, const std::string& format,
                                                const std::filesystem::path& dir, const ExportOptions& options) {
  if (options.grid_points == 1) {
    throw InputError("GC-1613", "Invalid configuration. grid_points = 1. Violated constraint: grid_points >= 2 "
                                "(or 0: a lut's own grid, else 16)");
  }
  std::filesystem::create_directories(dir);
  const std::string stem = options.stem.empty() ? "model" : options.stem;
  if (format == "json") {
    save_model_file(dir / (stem + ".json"), model);
    return {dir / (stem + ".json")};
  }
  if (format == "csv") return {write(dir / (stem + ".csv"), csv_table(model, options.grid_points))};
  if (format == "xspice") return xspice_export(model, dir, stem, options.grid_points);
  if (format == "verilog-a") return verilog_a_export(model, dir, stem, options.grid_points);
  if (format == "reference") {
    return {write(dir / (stem + ".reference.json"), reference_json(model, options).dump(1) + "\n")};
  }
  throw InputError("GC-1613", "unknown export format '" + format +
                                  "'; this gaincell writes json, csv, reference, xspice and verilog-a");
}

std::vector<std::filesystem::path> export_model_file(const std::filesystem::path& model_file, const std::string& format,
                                                     const std::filesystem::path& dir, ExportOptions options) {
  const Model model = load_model_file(model_file);
  if (options.stem.empty()) options.stem = model_file.stem().string();
  return export_model(model, format, dir, options);
}

}  // namespace gaincell::fit
