// SPDX-License-Identifier: MIT
#include "gaincell/sweep/spec.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/json_reader.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/strings.h"
#include "gaincell/core/si_value.h"
#include "gaincell/spice/worker.h"

namespace gaincell::sweep {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// A vector name: v(node), v(a,b), i(source), @device[param] (names of
// identifier characters, dots for subcircuit paths).
bool is_vector_name(const std::string& s) {
  auto name_chars = [](auto first, auto last) {
    return first != last && std::all_of(first, last, [](unsigned char c) {
      return std::isalnum(c) || c == '_' || c == '.' || c == ',' || c == '#' || c == ':';
    });
  };
  if (s.size() >= 4 && s[0] == '@') {
    const auto open = s.find('[');
    return open != std::string::npos && s.back() == ']' && name_chars(s.begin() + 1, s.begin() + static_cast<long>(open)) &&
           name_chars(s.begin() + static_cast<long>(open) + 1, s.end() - 1);
  }
  if (s.size() < 4) return false;
  const char k = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  if ((k != 'v' && k != 'i') || s[1] != '(' || s.back() != ')') return false;
  return name_chars(s.begin() + 2, s.end() - 1);
}

constexpr JsonErrorIds kSpecIds{"GC-1201", "GC-1202", "GC-1203", "GC-1204", "GC-1205"};

// The shared reader, plus the spec's own kind of value: a time reference.
class Reader : public JsonReader {
 public:
  Reader(const std::string& text, std::string file) : JsonReader(text, std::move(file), kSpecIds) {}

  TimeRef time(const json& j, const std::string& pointer, const netlist::NetlistTemplate& tpl) const {
    TimeRef t;
    if (j.is_string()) {
      const std::string s = j.get<std::string>();
      if (s == "start") return {TimeRef::Kind::kStart, 0.0, ""};
      if (s == "end") return {TimeRef::Kind::kEnd, 0.0, ""};
      if (tpl.find_param(s) != nullptr) return {TimeRef::Kind::kParam, 0.0, tpl.find_param(s)->name};
      if (!gaincell::try_parse_si(s)) {
        fail(pointer, "GC-1205", "expected a time: a number (s), \"start\", \"end\" or a template parameter; found " +
                                     j.dump());
      }
    }
    t.kind = TimeRef::Kind::kNumber;
    t.value_s = number(j, pointer, "s");
    return t;
  }

  // Calls f(element, pointer) for each element of the array `list` at `pointer`.
  template <typename F>
  void for_each_element(const json& list, const std::string& pointer, F&& f) const {
    const json& a = array(list, pointer);
    for (std::size_t k = 0; k < a.size(); ++k) f(a[k], pointer + "/" + std::to_string(k));
  }

  // Calls f(key, value, pointer) for each member of the object `obj` at `pointer`.
  template <typename F>
  void for_each_member(const json& obj, const std::string& pointer, F&& f) const {
    const json& o = object(obj, pointer);
    for (auto it = o.begin(); it != o.end(); ++it) f(it.key(), it.value(), pointer + "/" + it.key());
  }
};

// Reads a spec's JSON into a SweepSpec, one section at a time, in the order
// its errors are reported: identity, template, params, axes, analysis,
// options, measures (and their leakage tolerances), ngspice_init, timeout.
class SpecParser {
 public:
  explicit SpecParser(SweepSpec& spec) : spec_(spec), r_(spec.text, spec.path.string()) {}

  void parse() {
    root_ = r_.parse();
    r_.object(root_, "");
    r_.check_keys(root_, "", {"format", "name", "description", "template", "params", "axes", "analysis",
                              "options", "measures", "timeout_s", "include_roots", "ngspice_init", "collapse"});
    read_identity();
    read_template();
    read_params();
    read_axes();
    read_tran();
    read_options();
    read_measures();
    check_leakage_tolerances();
    read_ngspice_init();
    read_timeout();
    read_collapse();
  }

 private:
  const netlist::NetlistTemplate& tpl() const { return spec_.netlist; }

  // A path the spec names, relative to the spec's directory.
  fs::path relative_to_spec(const fs::path& p) const {
    return p.is_relative() ? (spec_.path.parent_path() / p).lexically_normal() : p;
  }

  void read_identity() {
    const std::string format = r_.string(r_.require(root_, "", "format"), "/format");
    if (format != kSpecFormat) {
      r_.fail("/format", "GC-1206", "unsupported format \"" + format + "\"; this gaincell reads \"" +
                                        kSpecFormat + "\"");
    }
    spec_.name = r_.string(r_.require(root_, "", "name"), "/name");
    if (!is_identifier(spec_.name)) {
      r_.fail("/name", "GC-1205", "expected an identifier (letters, digits, _), found \"" + spec_.name + "\"");
    }
    if (root_.contains("description")) spec_.description = r_.string(root_["description"], "/description");
  }

  void read_template() {
    const fs::path tpl_path = relative_to_spec(r_.string(r_.require(root_, "", "template"), "/template"));
    std::error_code ec;
    if (!fs::is_regular_file(tpl_path, ec)) {
      r_.fail("/template", "GC-1207", "template file " + tpl_path.string() + " does not exist",
              "paths are relative to the spec file's directory");
    }
    spec_.template_path = tpl_path;
    // Directories the template's files may come from besides its own (and the
    // shipped netlists, GAINCELL_INCLUDE_PATH): relative to the spec.
    if (root_.contains("include_roots")) {
      r_.for_each_element(root_["include_roots"], "/include_roots", [&](const json& item, const std::string& ptr) {
        const fs::path dir = relative_to_spec(r_.string(item, ptr));
        if (!fs::is_directory(dir, ec)) r_.fail(ptr, "GC-1207", "include root " + dir.string() + " is not a directory");
        spec_.include_roots.push_back(dir);
      });
    }
    spec_.netlist = netlist::NetlistTemplate::load(tpl_path, spec_.include_roots);
  }

  // The template's parameter `name`; GC-1104 if it is derived, GC-1102 if unknown.
  const netlist::TemplateParam& template_param(const std::string& name, const std::string& pointer) const {
    const auto* p = tpl().find_param(name);
    if (p != nullptr) return *p;
    const auto& all = tpl().derived();
    const auto derived = std::find_if(all.begin(), all.end(), [&](const netlist::DerivedParam& d) { return d.name == name; });
    if (derived != all.end()) {
      r_.fail(pointer, "GC-1104", "parameter '" + name + "' is derived (an expression) in " + spec_.template_path.string() +
                                      ":" + std::to_string(derived->line) + ":" + std::to_string(derived->column) +
                                      " and cannot be set");
    }
    std::vector<std::string> declared;
    for (const auto& q : tpl().params()) declared.push_back(q.name);
    r_.fail(pointer, "GC-1102", "unknown parameter '" + name + "'; " + spec_.template_path.filename().string() +
                                    " declares: " + join(declared, ", "));
  }

  void read_params() {
    if (!root_.contains("params")) return;
    r_.for_each_member(root_["params"], "/params", [&](const std::string& key, const json& value, const std::string& ptr) {
      const auto& p = template_param(key, ptr);
      spec_.params[p.name] = r_.number(value, ptr, p.unit);
      if (const std::string why = tpl().range_violation(p.name, spec_.params[p.name]); !why.empty()) r_.fail(ptr, "GC-1110", why);
    });
  }

  void read_axes() {
    std::set<std::string> swept;
    r_.for_each_element(r_.require(root_, "", "axes"), "/axes", [&](const json& item, const std::string& ptr) {
      Axis axis = read_axis(r_.object(item, ptr), ptr);
      if (!swept.insert(axis.name).second) {
        r_.fail(ptr, "GC-1208", "'" + axis.name + "' is swept twice",
                axis.kind == Axis::Kind::kCorner ? "give each corner axis a \"name\" of its own, e.g. \"mismatch\"" : "");
      }
      if (axis.values.empty()) r_.fail(ptr + "/values", "GC-1205", "an axis needs at least one value");
      spec_.axes.push_back(std::move(axis));
    });
    for (const auto& [name, sigma] : spec_.monte_carlo.sigma) {
      if (swept.count(name) != 0) {
        r_.fail("/axes", "GC-1208", "parameter '" + name + "' is both swept and varied by Monte Carlo");
      }
    }
    if (spec_.axes.empty()) r_.fail("/axes", "GC-1205", "a sweep needs at least one axis");
    check_point_count();
  }

  Axis read_axis(const json& a, const std::string& ptr) {
    const int kinds = int(a.contains("param")) + int(a.contains("option")) + int(a.contains("corner")) +
                      int(a.contains("monte_carlo"));
    if (kinds != 1) {
      r_.fail(ptr, "GC-1202", "an axis needs exactly one of \"param\", \"option\", \"corner\" or \"monte_carlo\"");
    }
    Axis axis = a.contains("param")    ? read_param_axis(a, ptr)
                : a.contains("option") ? read_option_axis(a, ptr)
                : a.contains("corner") ? read_corner_axis(a, ptr)
                                       : read_monte_carlo_axis(a, ptr);
    if (a.contains("description")) axis.description = r_.string(a["description"], ptr + "/description");
    return axis;
  }

  std::vector<double> read_axis_values(const json& a, const std::string& ptr, const std::string& unit) const {
    const int forms = int(a.contains("values")) + int(a.contains("linspace")) + int(a.contains("logspace"));
    if (forms != 1) r_.fail(ptr, "GC-1202", "an axis needs exactly one of \"values\", \"linspace\" or \"logspace\"");
    if (a.contains("values")) return r_.number_list(r_.array(a["values"], ptr + "/values"), ptr + "/values", unit);
    const char* key = a.contains("linspace") ? "linspace" : "logspace";
    return r_.number_list(json{{key, a[key]}}, ptr, unit);
  }

  Axis read_param_axis(const json& a, const std::string& ptr) const {
    r_.check_keys(a, ptr, {"param", "values", "linspace", "logspace", "description"});
    const auto& p = template_param(r_.string(a["param"], ptr + "/param"), ptr + "/param");
    Axis axis;
    axis.kind = Axis::Kind::kParam;
    axis.name = p.name;
    axis.unit = p.unit;
    axis.description = p.description;
    if (spec_.params.count(axis.name) != 0) {
      r_.fail(ptr + "/param", "GC-1208", "parameter '" + axis.name + "' is both fixed in /params and swept");
    }
    axis.values = read_axis_values(a, ptr, p.unit);
    for (std::size_t k = 0; k < axis.values.size(); ++k) {
      if (const std::string why = tpl().range_violation(p.name, axis.values[k]); !why.empty()) {
        r_.fail(a.contains("values") ? ptr + "/values/" + std::to_string(k) : ptr, "GC-1110", why);
      }
    }
    return axis;
  }

  Axis read_option_axis(const json& a, const std::string& ptr) const {
    r_.check_keys(a, ptr, {"option", "values", "linspace", "logspace", "description"});
    Axis axis;
    axis.kind = Axis::Kind::kOption;
    axis.name = r_.string(a["option"], ptr + "/option");
    if (!is_identifier(axis.name)) r_.fail(ptr + "/option", "GC-1205", "option names are identifiers");
    axis.unit = axis.name == "temp" || axis.name == "tnom" ? "degC" : "1";
    axis.description = axis.name == "temp" ? "circuit temperature" : "ngspice option " + axis.name;
    axis.values = read_axis_values(a, ptr, axis.unit);
    return axis;
  }

  Axis read_corner_axis(const json& a, const std::string& ptr) const {
    r_.check_keys(a, ptr, {"corner", "values", "description", "name"});
    Axis axis;
    axis.kind = Axis::Kind::kCorner;
    axis.name = "corner";
    // Several corner axes (process, mismatch, ...) need names of their own.
    if (a.contains("name")) {
      axis.name = r_.string(a["name"], ptr + "/name");
      if (!is_identifier(axis.name)) r_.fail(ptr + "/name", "GC-1205", "expected an identifier, found \"" + axis.name + "\"");
      if (tpl().find_param(axis.name) != nullptr) {
        r_.fail(ptr + "/name", "GC-1208", "'" + axis.name + "' is a template parameter; name the corner axis otherwise");
      }
    }
    axis.unit = "1";
    const std::string corner = r_.string(a["corner"], ptr + "/corner");
    axis.description = "process corner (section of " + corner + ")";
    axis.lib_file = corner_library(corner, ptr + "/corner");
    const auto sections = netlist::library_sections(axis.lib_file);
    r_.for_each_element(r_.require(a, ptr, "values"), ptr + "/values", [&](const json& item, const std::string& vp) {
      const std::string section = lower(r_.string(item, vp));
      if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
        r_.fail(vp, "GC-1210", "section '" + section + "' is not in " + axis.lib_file.string() + "; it defines: " +
                                   join(sections, ", "));
      }
      axis.labels.push_back(section);
      axis.values.push_back(static_cast<double>(axis.values.size()));
    });
    return axis;
  }

  // The file of the one `.lib FILE SECTION` line of the template that a
  // corner axis names (`corner`, relative to the spec), not chosen by another axis.
  fs::path corner_library(const std::string& corner, const std::string& pointer) const {
    const fs::path lib = fs::absolute(relative_to_spec(corner)).lexically_normal();
    const auto& refs = tpl().lib_references();
    std::vector<std::string> files;
    std::vector<std::string> lines;  // of `.lib` lines reading `lib`
    for (const auto& l : refs) {
      files.push_back(l.file.string());
      if (l.file.lexically_normal() == lib) lines.push_back(std::to_string(l.line));
    }
    if (lines.empty()) {
      r_.fail(pointer, "GC-1210",
              "the template has no `.lib " + lib.string() + " SECTION` line" +
                  (files.empty() ? std::string(" (it has no .lib lines)") : "; it uses: " + join(files, ", ")),
              "corner paths are relative to the spec file");
    }
    const fs::path file = std::find_if(refs.begin(), refs.end(), [&](const netlist::LibReference& l) {
                            return l.file.lexically_normal() == lib;
                          })->file;
    // The renderer sets the section of every `.lib` line of this file: with
    // two lines (a process corner and a statistical section of one PDK file,
    // gf180-style) both would silently get the same section.
    if (lines.size() > 1) {
      r_.fail(pointer, "GC-1219",
              "the template reads " + lib.string() + " in " + std::to_string(lines.size()) + " `.lib FILE SECTION` lines (" +
                  spec_.template_path.filename().string() + " lines " + join(lines, ", ") +
                  "); a corner axis sets the section of every one of them",
              "give the varied sections a library file of their own, e.g. corners.lib with `.lib tt` ... "
              "`.lib \"models.lib\" tt` ... `.endl tt` (docs/pdk.md)");
    }
    for (const auto& other : spec_.axes) {
      if (other.kind == Axis::Kind::kCorner && other.lib_file == file) {
        r_.fail(pointer, "GC-1219", "another corner axis ('" + other.name + "') already chooses the section of " +
                                        file.string());
      }
    }
    return file;
  }

  Axis read_monte_carlo_axis(const json& a, const std::string& ptr) {
    r_.check_keys(a, ptr, {"monte_carlo", "description"});
    read_monte_carlo(a["monte_carlo"], ptr + "/monte_carlo");
    Axis axis;
    axis.kind = Axis::Kind::kMonteCarlo;
    axis.name = "mc_sample";
    axis.unit = "1";
    axis.description = "Monte Carlo sample (seed " + std::to_string(spec_.monte_carlo.seed) + ")";
    for (std::size_t k = 0; k < spec_.monte_carlo.samples; ++k) axis.values.push_back(static_cast<double>(k));
    return axis;
  }

  void read_monte_carlo(const json& j, const std::string& mp) {
    const json& mc = r_.object(j, mp);
    r_.check_keys(mc, mp, {"samples", "seed", "vary"});
    if (spec_.monte_carlo.samples > 0) r_.fail(mp, "GC-1208", "only one Monte Carlo axis is allowed");
    const json& n = r_.require(mc, mp, "samples");
    if (!n.is_number_integer() || n.get<long long>() < 1) {
      r_.fail(mp + "/samples", "GC-1203", "expected an integer >= 1, found " + shown_json(n));
    }
    if (n.get<long long>() > static_cast<long long>(limits::kMaxListValues)) {
      r_.fail(mp + "/samples", "GC-1209", "at most " + std::to_string(limits::kMaxListValues) +
                                              " samples (limits::kMaxListValues, docs/cli.md#limits)");
    }
    const json& seed = r_.require(mc, mp, "seed");
    if (!seed.is_number_integer() || seed.get<long long>() < 0) {
      r_.fail(mp + "/seed", "GC-1203", "expected an integer >= 0, found " + shown_json(seed));
    }
    spec_.monte_carlo.samples = static_cast<std::size_t>(n.get<long long>());
    spec_.monte_carlo.seed = seed.get<std::uint64_t>();
    const json& vary = r_.object(r_.require(mc, mp, "vary"), mp + "/vary");
    if (vary.empty()) r_.fail(mp + "/vary", "GC-1205", "name at least one parameter to vary");
    r_.for_each_member(vary, mp + "/vary", [&](const std::string& key, const json& value, const std::string& vp) {
      const auto& p = template_param(key, vp);
      const json& d = r_.object(value, vp);
      r_.check_keys(d, vp, {"sigma"});
      const double sigma = r_.number(r_.require(d, vp, "sigma"), vp + "/sigma", p.unit);
      if (!(sigma >= 0)) r_.fail(vp + "/sigma", "GC-1205", "sigma must be >= 0");
      spec_.monte_carlo.sigma[p.name] = sigma;
    });
  }

  void check_point_count() const {
    std::size_t points = 1;
    for (const auto& a : spec_.axes) {
      if (a.values.size() > limits::kMaxPoints / points) {
        r_.fail("/axes", "GC-1209", "the axes span more than " + std::to_string(limits::kMaxPoints) +
                                        " points (limits::kMaxPoints, docs/cli.md#limits)",
                "split the sweep into several specs, or coarsen an axis");
      }
      points *= a.values.size();
    }
  }

  void read_tran() {
    const json& analysis = r_.object(r_.require(root_, "", "analysis"), "/analysis");
    r_.check_keys(analysis, "/analysis", {"tran"});
    const json& tran = r_.object(r_.require(analysis, "/analysis", "tran"), "/analysis/tran");
    r_.check_keys(tran, "/analysis/tran", {"step", "stop", "start", "max_step"});
    TranAnalysis& t = spec_.tran;
    t.step_s = r_.number(r_.require(tran, "/analysis/tran", "step"), "/analysis/tran/step", "s");
    t.stop_s = r_.number(r_.require(tran, "/analysis/tran", "stop"), "/analysis/tran/stop", "s");
    if (tran.contains("start")) t.start_s = r_.number(tran["start"], "/analysis/tran/start", "s");
    if (tran.contains("max_step")) t.max_step_s = r_.number(tran["max_step"], "/analysis/tran/max_step", "s");
    if (!(t.step_s > 0)) r_.fail("/analysis/tran/step", "GC-1205", "the time step must be > 0 s");
    if (!(t.stop_s > t.start_s)) {
      r_.fail("/analysis/tran/stop", "GC-1205", "the stop time must be later than the start time");
    }
    if (t.max_step_s < 0) r_.fail("/analysis/tran/max_step", "GC-1205", "max_step must be >= 0 s");
    // ngspice takes at least (stop - start) / step time points (and / max_step):
    // a step far too small fills the worker's memory without end.
    for (const auto& [key, dt] : {std::pair<const char*, double>{"step", t.step_s}, {"max_step", t.max_step_s}}) {
      if (dt > 0 && (t.stop_s - t.start_s) / dt > limits::kMaxTranSteps) {
        r_.fail(std::string("/analysis/tran/") + key, "GC-1205",
                "(stop - start) / " + std::string(key) + " is more than " + std::to_string(limits::kMaxTranSteps) +
                    " time points (limits::kMaxTranSteps, docs/cli.md#limits)",
                "a transient of this length needs a coarser step");
      }
    }
  }

  void read_options() {
    if (!root_.contains("options")) return;
    r_.for_each_member(root_["options"], "/options", [&](const std::string& key, const json& value, const std::string& ptr) {
      if (!is_identifier(key)) r_.fail(ptr, "GC-1205", "option names are identifiers");
      if (value.is_string() && (value == "gear" || value == "trap")) {
        if (key != "method") r_.fail(ptr, "GC-1205", "only 'method' takes gear/trap");
        spec_.options.emplace_back(key, value.get<std::string>());
        return;
      }
      spec_.options.emplace_back(key, gaincell::format_exact(r_.number(value, ptr, "")));
    });
  }

  void read_measures() {
    const json& list = r_.array(r_.require(root_, "", "measures"), "/measures");
    if (list.empty()) r_.fail("/measures", "GC-1205", "a sweep needs at least one measure");
    std::set<std::string> names;
    r_.for_each_element(list, "/measures", [&](const json& item, const std::string& ptr) {
      spec_.measures.push_back(read_measure(r_.object(item, ptr), ptr, names));
    });
  }

  MeasureSpec read_measure(const json& m, const std::string& ptr, std::set<std::string>& names) const {
    r_.check_keys(m, ptr, {"name", "kind", "unit", "description", "of", "voltage", "current", "scale",
                           "from", "to", "at", "threshold", "times", "leakage"});
    MeasureSpec ms;
    if (m.contains("leakage")) {
      if (!m["leakage"].is_boolean()) {
        r_.fail(ptr + "/leakage", "GC-1203", "expected true or false, found " + shown_json(m["leakage"]));
      }
      ms.leakage = m["leakage"].get<bool>();
    }
    ms.name = r_.string(r_.require(m, ptr, "name"), ptr + "/name");
    if (!is_identifier(ms.name)) r_.fail(ptr + "/name", "GC-1205", "expected an identifier, found \"" + ms.name + "\"");
    if (!names.insert(ms.name).second) r_.fail(ptr + "/name", "GC-1208", "measure '" + ms.name + "' is defined twice");
    const std::string kind = r_.string(r_.require(m, ptr, "kind"), ptr + "/kind");
    if (!measure::measure_kind_from_string(kind, &ms.kind)) {
      r_.fail(ptr + "/kind", "GC-1205",
              "unknown measure kind \"" + kind +
                  "\"; expected integral, value_at, energy, average, min, max, time_above or trace");
    }
    ms.unit = r_.string(r_.require(m, ptr, "unit"), ptr + "/unit");
    if (m.contains("description")) ms.description = r_.string(m["description"], ptr + "/description");
    read_measure_vectors(m, ptr, ms);
    if (m.contains("scale")) ms.scale = r_.number(m["scale"], ptr + "/scale", "");
    if (ms.kind == measure::MeasureKind::kTimeAbove) {
      ms.threshold = r_.number(r_.require(m, ptr, "threshold"), ptr + "/threshold", "");
    } else if (m.contains("threshold")) {
      r_.fail(ptr + "/threshold", "GC-1204", "\"threshold\" belongs to time_above measures", "", true);
    }
    read_trace_times(m, ptr, ms);
    read_measure_times(m, ptr, ms);
    check_within_transient(m, ptr, ms);
    return ms;
  }

  // A measure's vector at m[key], checked and lower-cased.
  std::string read_vector(const json& m, const std::string& ptr, const char* key) const {
    const std::string v = r_.string(r_.require(m, ptr, key), ptr + "/" + key);
    if (!is_vector_name(v)) {
      r_.fail(ptr + "/" + key, "GC-1205",
              "expected a vector such as \"v(node)\", \"v(a,b)\", \"i(vsource)\" or \"@device[param]\", found \"" + v + "\"");
    }
    try {
      measure::vector_terms(v);
    } catch (const measure::MeasureError& e) {
      r_.fail(ptr + "/" + key, "GC-1205", e.what());
    }
    return lower(v);
  }

  void read_measure_vectors(const json& m, const std::string& ptr, MeasureSpec& ms) const {
    if (ms.kind == measure::MeasureKind::kEnergy) {
      ms.voltage = read_vector(m, ptr, "voltage");
      ms.current = read_vector(m, ptr, "current");
      if (m.contains("of")) r_.fail(ptr + "/of", "GC-1204", "an energy measure takes \"voltage\" and \"current\", not \"of\"");
    } else {
      ms.of = read_vector(m, ptr, "of");
    }
  }

  void read_trace_times(const json& m, const std::string& ptr, MeasureSpec& ms) const {
    if (ms.kind != measure::MeasureKind::kTrace) {
      if (m.contains("times")) r_.fail(ptr + "/times", "GC-1204", "\"times\" belongs to trace measures", "", true);
      return;
    }
    ms.times_s = r_.number_list(r_.require(m, ptr, "times"), ptr + "/times", "s");
    if (ms.times_s.empty()) r_.fail(ptr + "/times", "GC-1205", "a trace needs at least one time");
    if (ms.times_s.size() > limits::kMaxTraceSamples) {
      r_.fail(ptr + "/times", "GC-1205", std::to_string(ms.times_s.size()) + " samples: a trace holds at most " +
                                             std::to_string(limits::kMaxTraceSamples) +
                                             " per point (limits::kMaxTraceSamples, docs/cli.md#limits)");
    }
    for (std::size_t k = 1; k < ms.times_s.size(); ++k) {
      if (!(ms.times_s[k] > ms.times_s[k - 1])) {
        r_.fail(ptr + "/times", "GC-1205", "trace times must increase");
      }
    }
    if (m.contains("from") || m.contains("to") || m.contains("at")) {
      r_.fail(ptr, "GC-1204", "a trace takes \"times\", not \"at\" or a window");
    }
  }

  // "at" for value_at, a window ("from", "to") for the others (a trace has times only).
  void read_measure_times(const json& m, const std::string& ptr, MeasureSpec& ms) const {
    if (ms.kind == measure::MeasureKind::kTrace) return;
    if (ms.kind == measure::MeasureKind::kValueAt) {
      if (m.contains("at")) ms.at = r_.time(m["at"], ptr + "/at", tpl());
      if (m.contains("from") || m.contains("to")) r_.fail(ptr, "GC-1204", "value_at takes \"at\", not a window");
      return;
    }
    if (m.contains("from")) ms.from = r_.time(m["from"], ptr + "/from", tpl());
    if (m.contains("to")) ms.to = r_.time(m["to"], ptr + "/to", tpl());
    if (m.contains("at")) r_.fail(ptr + "/at", "GC-1204", "\"at\" belongs to value_at measures");
  }

  // A fixed time outside the transient fails every point: say so now.
  void check_within_transient(const json& m, const std::string& ptr, const MeasureSpec& ms) const {
    const TranAnalysis& t = spec_.tran;
    const std::string span = "(" + gaincell::format_exact(t.start_s) + " s to " + gaincell::format_exact(t.stop_s) + " s)";
    for (const auto& [key, time] : {std::pair<const char*, const TimeRef*>{"at", &ms.at}, {"from", &ms.from}, {"to", &ms.to}}) {
      if (m.contains(key) && time->kind == TimeRef::Kind::kNumber && !(time->value_s >= t.start_s && time->value_s <= t.stop_s)) {
        r_.fail(ptr + "/" + key, "GC-1205", gaincell::format_exact(time->value_s) + " s is outside the transient " + span);
      }
    }
    if (ms.kind == measure::MeasureKind::kTrace && (ms.times_s.front() < t.start_s || ms.times_s.back() > t.stop_s)) {
      r_.fail(ptr + "/times", "GC-1205", "trace times must lie within the transient " + span);
    }
  }

  // Retention and leakage need tiny gmin and abstol: with ngspice's defaults
  // (gmin 1e-12 S, abstol 1e-12 A) the gmin conductance across junctions
  // alone discharges a fF storage node in about a millisecond.
  void check_leakage_tolerances() const {
    for (const auto& ms : spec_.measures) {
      if (!ms.leakage) continue;
      for (const char* option : {"gmin", "abstol"}) {
        const auto it = std::find_if(spec_.options.begin(), spec_.options.end(),
                                     [&](const auto& o) { return o.first == option; });
        const double value = it == spec_.options.end() ? 1e-12 : gaincell::parse_si(it->second);
        if (value > kLeakageToleranceMax) {
          r_.fail(it == spec_.options.end() ? "/options" : std::string("/options/") + option, "GC-1211",
                  "measure '" + ms.name + "' is leakage-sensitive but " + option + " = " +
                      gaincell::format_exact(value) + (it == spec_.options.end() ? " (ngspice's default)" : "") +
                      "; retention needs gmin <= 1e-18 and abstol <= 1e-18",
                  "with larger values the gmin conductance fakes the leak (a 1.9 ms apparent retention instead "
                  "of 28 ms in gaincell's planning measurements)");
        }
      }
    }
  }

  void read_ngspice_init() {
    if (!root_.contains("ngspice_init")) return;
    bool has_mode = false;
    r_.for_each_element(root_["ngspice_init"], "/ngspice_init", [&](const json& item, const std::string& ptr) {
      const spice::InitLineCheck c = spice::check_init_line(r_.string(item, ptr));
      if (!c.ok()) r_.fail(ptr, c.id, c.message, c.hint);
      if (std::find(spec_.ngspice_init.begin(), spec_.ngspice_init.end(), c.line) != spec_.ngspice_init.end()) {
        r_.fail(ptr, "GC-1208", "\"" + c.line + "\" is given twice");
      }
      if (c.line.rfind("set ngbehavior=", 0) == 0) {
        if (has_mode) r_.fail(ptr, "GC-1218", "a second 'set ngbehavior' line (ngspice would keep only the last)", spice::allowed_init_forms());
        has_mode = true;
      }
      spec_.ngspice_init.push_back(c.line);
    });
  }

  void read_timeout() {
    if (!root_.contains("timeout_s")) return;
    spec_.timeout_s = r_.number(root_["timeout_s"], "/timeout_s", "s");
    if (!(spec_.timeout_s > 0 && spec_.timeout_s <= limits::kMaxTimeout_s)) {
      r_.fail("/timeout_s", "GC-1205", "the timeout must be > 0 s and at most " + gaincell::format_exact(limits::kMaxTimeout_s) +
                                           " s (limits::kMaxTimeout_s, docs/cli.md#limits)");
    }
  }

  // A time in a message; a Monte Carlo one has no single value.
  static std::string shown_s(double t) {
    if (!std::isfinite(t)) return "(a Monte Carlo value)";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", t);
    return buf;
  }

  // The values a time takes over the sweep, [lo, hi] (s): a fixed or default
  // parameter has one, a swept one its axis' range, a Monte Carlo one any.
  std::pair<double, double> time_range(const TimeRef& t) const {
    constexpr double kInf = std::numeric_limits<double>::infinity();
    switch (t.kind) {
      case TimeRef::Kind::kNumber: return {t.value_s, t.value_s};
      case TimeRef::Kind::kStart: return {0.0, 0.0};
      case TimeRef::Kind::kEnd: return {spec_.tran.stop_s, spec_.tran.stop_s};
      case TimeRef::Kind::kParam: break;
    }
    for (const auto& a : spec_.axes) {
      if (a.kind == Axis::Kind::kParam && a.name == t.param) {
        return {*std::min_element(a.values.begin(), a.values.end()), *std::max_element(a.values.begin(), a.values.end())};
      }
    }
    if (spec_.monte_carlo.sigma.count(t.param) != 0) return {-kInf, kInf};
    const auto fixed = spec_.params.find(t.param);
    const double v = fixed != spec_.params.end() ? fixed->second : tpl().find_param(t.param)->default_value;
    return {v, v};
  }

  // "collapse": {"axis", "line", "pulse_start", "edge", "force", "verify_threshold_pct", "verify_measures"}.
  void read_collapse() {
    if (!root_.contains("collapse")) return;
    const std::string cp = "/collapse";
    const json& c = r_.object(root_["collapse"], cp);
    r_.check_keys(c, cp, {"axis", "line", "pulse_start", "edge", "force", "verify_threshold_pct", "verify_measures"});
    Collapse col;
    const std::string axis = lower(r_.string(r_.require(c, cp, "axis"), cp + "/axis"));
    std::vector<std::string> params;
    for (std::size_t i = 0; i < spec_.axes.size(); ++i) {
      if (spec_.axes[i].kind != Axis::Kind::kParam) continue;
      params.push_back(spec_.axes[i].name);
      if (spec_.axes[i].name == axis) col.axis = i;
    }
    if (std::find(params.begin(), params.end(), axis) == params.end()) {
      r_.fail(cp + "/axis", "GC-1225", "collapse axis '" + axis + "' is not a swept template parameter; the spec sweeps " +
                                           (params.empty() ? std::string("none") : join(params, ", ")),
              "name the pulse-width axis, e.g. \"t_pulse\"");
    }
    const std::string line = r_.string(r_.require(c, cp, "line"), cp + "/line");
    if (line == "held") col.line = Collapse::Line::kHeld;
    else if (line == "precharged") col.line = Collapse::Line::kPrecharged;
    else if (line == "integrator") col.line = Collapse::Line::kIntegrator;
    else r_.fail(cp + "/line", "GC-1226", "unknown line \"" + line + "\"; expected held, precharged or integrator");
    if (c.contains("force")) col.force = r_.boolean(c["force"], cp + "/force");
    if (col.line != Collapse::Line::kHeld && !col.force) {
      r_.fail(cp + "/line", "GC-1226",
              "collapsing '" + axis + "' needs a read line held at a fixed voltage; a " + line +
                  " line's turn-off tail depends on the charge read so far, so the longest pulse's tail does not fit the others",
              "hold the line (a cell card's \"held\" read scheme: c_line 1 uF), or set \"force\": true and check the "
              "result with gaincell sweep --verify K");
    }
    const netlist::TemplateParam* declared = tpl().find_param(axis);
    if (declared != nullptr && !declared->unit.empty() && declared->unit != "s") {
      r_.fail(cp + "/axis", "GC-1225",
              "collapse axis '" + axis + "' is declared in " + declared->unit + " (" + tpl().path().string() + ":" +
                  std::to_string(declared->line) + "); a pulse-width axis is a time in s",
              "name the pulse-width axis, e.g. \"t_pulse\"");
    }
    const auto& widths = spec_.axes[col.axis].values;
    const double w_max = *std::max_element(widths.begin(), widths.end());
    if (*std::min_element(widths.begin(), widths.end()) < 0 || !(w_max > 0)) {
      r_.fail(cp + "/axis", "GC-1225", "collapse axis '" + axis + "' must hold pulse widths >= 0 s with at least one > 0 s");
    }
    if (c.contains("pulse_start")) col.pulse_start = r_.time(c["pulse_start"], cp + "/pulse_start", tpl());
    if (col.pulse_start.kind == TimeRef::Kind::kParam && tpl().find_param(col.pulse_start.param) == nullptr) {
      r_.fail(cp + (c.contains("pulse_start") ? "/pulse_start" : ""), "GC-1228",
              "the template has no parameter 't_read' for the time the read pulse starts rising",
              "give \"pulse_start\": a number (s) or the template parameter that sets it");
    }
    if (col.pulse_start.kind == TimeRef::Kind::kStart || col.pulse_start.kind == TimeRef::Kind::kEnd ||
        (col.pulse_start.kind == TimeRef::Kind::kParam && col.pulse_start.param == axis)) {
      r_.fail(cp + "/pulse_start", "GC-1228", "expected the time the read pulse starts rising: a number (s) or a template parameter other than '" + axis + "'");
    }
    const auto [t0_lo, t0_hi] = time_range(col.pulse_start);
    if (!(t0_lo > spec_.tran.start_s) || !(t0_hi + w_max < spec_.tran.stop_s)) {
      r_.fail(cp + (c.contains("pulse_start") ? "/pulse_start" : ""), "GC-1228",
              "the widths are read from the pulse start, " + shown_s(t0_lo) + " s, to the pulse start + the longest width, " +
                  shown_s(t0_hi + w_max) + " s, which must lie inside the transient (" +
                  shown_s(spec_.tran.start_s) + " s to " + shown_s(spec_.tran.stop_s) + " s)",
              "the run's turn-off tail is read after the longest pulse: end the transient after it");
    }
    read_collapse_edge(c, col, axis);
    if (c.contains("verify_threshold_pct")) {
      col.verify_threshold_pct = r_.number(c["verify_threshold_pct"], cp + "/verify_threshold_pct", "%");
      if (!(col.verify_threshold_pct > 0 && col.verify_threshold_pct <= 100)) {
        r_.fail(cp + "/verify_threshold_pct", "GC-1229", "expected a percentage of full scale in (0, 100], found " +
                                                             shown_s(col.verify_threshold_pct));
      }
    }
    for (const auto& [vp, item] : r_.items_if(c, cp, "verify_measures")) {
      const std::string name = r_.string(*item, vp);
      const bool known = std::any_of(spec_.measures.begin(), spec_.measures.end(), [&](const MeasureSpec& m) { return m.name == name; });
      if (!known) {
        std::vector<std::string> names;
        for (const auto& m : spec_.measures) names.push_back(m.name);
        r_.fail(vp, "GC-1229", "verify_measures names '" + name + "', which is not a measure of this spec; it has " + join(names, ", "));
      }
      col.verify_measures.push_back(name);
    }
    for (std::size_t i = 0; i < spec_.measures.size(); ++i) {
      spec_.collapse_reads.push_back(collapse_read(spec_.measures[i], "/measures/" + std::to_string(i), col, t0_lo));
    }
    spec_.collapse = col;
  }

  // The collapse's "edge" (default: the template's t_edge), or GC-1230.
  void read_collapse_edge(const json& c, Collapse& col, const std::string& axis) const {
    const std::string ep = "/collapse/edge";
    const std::string expected = "the read pulse's rise (and fall) time: a number >= 0 (s) or a template parameter "
                                 "other than '" + axis + "'";
    if (c.contains("edge")) col.edge = r_.time(c["edge"], ep, tpl());
    if (col.edge.kind == TimeRef::Kind::kParam && tpl().find_param(col.edge.param) == nullptr) {
      r_.fail(c.contains("edge") ? ep : "/collapse", "GC-1230",
              "the template (" + spec_.template_path.string() + ") has no parameter 't_edge' for the read pulse's rise "
              "(and fall) time; expected " + expected,
              "give \"edge\": a number (s, 0 for an ideal step) or the template parameter that sets it");
    }
    const bool bad_kind = col.edge.kind == TimeRef::Kind::kStart || col.edge.kind == TimeRef::Kind::kEnd ||
                          (col.edge.kind == TimeRef::Kind::kParam && col.edge.param == axis);
    if (bad_kind || !(time_range(col.edge).first >= 0)) {
      const std::string found = c.contains("edge") ? c["edge"].dump() : "t_edge = " + shown_s(time_range(col.edge).first);
      r_.fail(c.contains("edge") ? ep : "/collapse", "GC-1230", "expected " + expected + ", found " + found);
    }
  }

  // How measure m can be read from the longest pulse's run, or GC-1227.
  CollapseRead collapse_read(const MeasureSpec& m, const std::string& ptr, const Collapse& col, double t0_lo) const {
    using measure::MeasureKind;
    const std::string& axis = spec_.axes[col.axis].name;
    const std::string start = col.pulse_start.kind == TimeRef::Kind::kParam ? col.pulse_start.param + ", " : "";
    const std::string at_start = "the pulse start (" + start + shown_s(t0_lo) + " s)";
    for (const TimeRef* t : {&m.from, &m.to, &m.at}) {
      if (t->kind == TimeRef::Kind::kParam && t->param == axis) {
        r_.fail(ptr, "GC-1227", "measure '" + m.name + "' takes a time from '" + axis + "', the collapsed axis; it cannot be collapsed");
      }
    }
    const bool is_value = m.kind == MeasureKind::kValueAt;
    const bool is_trace = m.kind == MeasureKind::kTrace;
    const TimeRef& end = is_value ? m.at : m.to;
    const double end_hi = is_trace ? m.times_s.back() : time_range(end).second;
    if (end_hi <= t0_lo) return CollapseRead::kBefore;
    const bool additive = m.kind == MeasureKind::kIntegral || m.kind == MeasureKind::kEnergy ||
                          m.kind == MeasureKind::kAverage || is_value;
    const std::string hint = "only measures that end before the pulse starts, and integral, energy, average or value_at "
                             "measures that end at the end of the transient, can be collapsed";
    if (!additive) {
      r_.fail(ptr, "GC-1227", "measure '" + m.name + "' (" + measure::to_string(m.kind) +
                                  ") depends on the waveform after " + at_start +
                                  ", which is not the sum of the longest pulse's run up to a width's read time and its tail", hint);
    }
    if (time_range(end).first < spec_.tran.stop_s) {
      r_.fail(ptr, "GC-1227", "measure '" + m.name + "' ends " + (is_value ? "at " : "its window at ") +
                                  shown_s(time_range(end).first) + " s, after " + at_start +
                                  " and before the end of the transient; a narrower pulse has ended there, the longest has not", hint);
    }
    if (!is_value && time_range(m.from).second > t0_lo) {
      r_.fail(ptr, "GC-1227", "measure '" + m.name + "' starts its window at " + shown_s(time_range(m.from).second) +
                                  " s, after " + at_start + "; a narrower pulse's read time could lie before it", hint);
    }
    return CollapseRead::kTail;
  }

  SweepSpec& spec_;
  Reader r_;
  json root_;
};

}  // namespace

SweepSpec load_spec(const std::filesystem::path& path) { return parse_spec(read_text_file(path), path); }

SweepSpec parse_spec(std::string text, const std::filesystem::path& origin) {
  SweepSpec spec;
  spec.path = origin;
  spec.text = std::move(text);
  SpecParser(spec).parse();
  return spec;
}

const char* to_string(Collapse::Line line) {
  switch (line) {
    case Collapse::Line::kHeld: return "held";
    case Collapse::Line::kPrecharged: return "precharged";
    case Collapse::Line::kIntegrator: return "integrator";
  }
  return "held";
}

double monte_carlo_normal(std::uint64_t seed, std::size_t sample, const std::string& name) {
  std::uint64_t h = splitmix64(seed);
  for (unsigned char c : name) h = splitmix64(h ^ c);
  h = splitmix64(h ^ splitmix64(static_cast<std::uint64_t>(sample)));
  // Two uniforms in (0, 1) from 53-bit mantissas, then Box-Muller.
  const double u1 = (static_cast<double>(splitmix64(h) >> 11) + 0.5) * 0x1.0p-53;
  const double u2 = (static_cast<double>(splitmix64(h + 1) >> 11) + 0.5) * 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

double monte_carlo_value(const SweepSpec& spec, const std::string& name, std::size_t sample) {
  const auto fixed = spec.params.find(name);
  const double nominal = fixed != spec.params.end() ? fixed->second : spec.netlist.find_param(name)->default_value;
  return nominal + spec.monte_carlo.sigma.at(name) * monte_carlo_normal(spec.monte_carlo.seed, sample, name);
}

}  // namespace gaincell::sweep
