// SPDX-License-Identifier: MIT
#include "gaincell/sweep/spec.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "gaincell/core/error.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/json_reader.h"
#include "gaincell/netlist/si_value.h"
#include "gaincell/spice/worker.h"

namespace gaincell::sweep {
namespace {

using nlohmann::json;

bool is_identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

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

std::string shown(const json& j) { return shown_json(j); }

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
      if (!netlist::try_parse_si(s)) {
        fail(pointer, "GC-1205", "expected a time: a number (s), \"start\", \"end\" or a template parameter; found " +
                                     j.dump());
      }
    }
    t.kind = TimeRef::Kind::kNumber;
    t.value_s = number(j, pointer, "s");
    return t;
  }
};

}  // namespace

SweepSpec load_spec(const std::filesystem::path& path) { return parse_spec(read_text_file(path), path); }

SweepSpec parse_spec(std::string text, const std::filesystem::path& origin) {
  SweepSpec spec;
  spec.path = origin;
  spec.text = std::move(text);
  const std::string file = origin.string();
  Reader r(spec.text, file);

  const json root = r.parse();
  r.object(root, "");
  r.check_keys(root, "", {"format", "name", "description", "template", "params", "axes", "analysis",
                          "options", "measures", "timeout_s", "include_roots", "ngspice_init"});

  const std::string format = r.string(r.require(root, "", "format"), "/format");
  if (format != kSpecFormat) {
    r.fail("/format", "GC-1206", "unsupported format \"" + format + "\"; this gaincell reads \"" +
                                     kSpecFormat + "\"");
  }
  spec.name = r.string(r.require(root, "", "name"), "/name");
  if (!is_identifier(spec.name)) {
    r.fail("/name", "GC-1205", "expected an identifier (letters, digits, _), found \"" + spec.name + "\"");
  }
  if (root.contains("description")) spec.description = r.string(root["description"], "/description");

  // The template, relative to the spec's directory.
  const std::string tpl_text = r.string(r.require(root, "", "template"), "/template");
  std::filesystem::path tpl_path(tpl_text);
  if (tpl_path.is_relative()) tpl_path = (origin.parent_path() / tpl_path).lexically_normal();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(tpl_path, ec)) {
    r.fail("/template", "GC-1207", "template file " + tpl_path.string() + " does not exist",
           "paths are relative to the spec file's directory");
  }
  spec.template_path = tpl_path;
  // Directories the template's files may come from besides its own (and the
  // shipped netlists, GAINCELL_INCLUDE_PATH): relative to the spec.
  if (root.contains("include_roots")) {
    const json& list = r.array(root["include_roots"], "/include_roots");
    for (std::size_t k = 0; k < list.size(); ++k) {
      const std::string ptr = "/include_roots/" + std::to_string(k);
      std::filesystem::path dir(r.string(list[k], ptr));
      if (dir.is_relative()) dir = (origin.parent_path() / dir).lexically_normal();
      if (!std::filesystem::is_directory(dir, ec)) r.fail(ptr, "GC-1207", "include root " + dir.string() + " is not a directory");
      spec.include_roots.push_back(dir);
    }
  }
  spec.netlist = netlist::NetlistTemplate::load(tpl_path, spec.include_roots);
  const auto& tpl = spec.netlist;

  auto template_param = [&](const std::string& name, const std::string& pointer) -> const netlist::TemplateParam& {
    const auto* p = tpl.find_param(name);
    if (p == nullptr) {
      std::string declared;
      for (const auto& q : tpl.params()) declared += (declared.empty() ? "" : ", ") + q.name;
      const bool derived = std::any_of(tpl.derived().begin(), tpl.derived().end(),
                                       [&](const netlist::DerivedParam& d) { return d.name == name; });
      if (derived) {
        r.fail(pointer, "GC-1104", "parameter '" + name + "' is derived (an expression) in " +
                                       tpl_path.string() + " and cannot be set");
      }
      r.fail(pointer, "GC-1102", "unknown parameter '" + name + "'; " + tpl_path.filename().string() +
                                     " declares: " + declared);
    }
    return *p;
  };

  if (root.contains("params")) {
    const json& params = r.object(root["params"], "/params");
    for (auto it = params.begin(); it != params.end(); ++it) {
      const std::string ptr = "/params/" + it.key();
      const auto& p = template_param(it.key(), ptr);
      spec.params[p.name] = r.number(it.value(), ptr, p.unit);
      if (const std::string why = tpl.range_violation(p.name, spec.params[p.name]); !why.empty()) r.fail(ptr, "GC-1110", why);
    }
  }

  const json& axes = r.array(r.require(root, "", "axes"), "/axes");
  std::set<std::string> swept;
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const std::string ptr = "/axes/" + std::to_string(i);
    const json& a = r.object(axes[i], ptr);
    Axis axis;
    const int kinds = int(a.contains("param")) + int(a.contains("option")) + int(a.contains("corner")) +
                      int(a.contains("monte_carlo"));
    if (kinds != 1) {
      r.fail(ptr, "GC-1202", "an axis needs exactly one of \"param\", \"option\", \"corner\" or \"monte_carlo\"");
    }
    auto read_values = [&](const std::string& unit) {
      const int forms = int(a.contains("values")) + int(a.contains("linspace")) + int(a.contains("logspace"));
      if (forms != 1) r.fail(ptr, "GC-1202", "an axis needs exactly one of \"values\", \"linspace\" or \"logspace\"");
      if (a.contains("values")) return r.number_list(r.array(a["values"], ptr + "/values"), ptr + "/values", unit);
      const char* key = a.contains("linspace") ? "linspace" : "logspace";
      return r.number_list(json{{key, a[key]}}, ptr, unit);
    };
    if (a.contains("param")) {
      r.check_keys(a, ptr, {"param", "values", "linspace", "logspace", "description"});
      const auto& p = template_param(r.string(a["param"], ptr + "/param"), ptr + "/param");
      axis.kind = Axis::Kind::kParam;
      axis.name = p.name;
      axis.unit = p.unit;
      axis.description = p.description;
      if (spec.params.count(axis.name) != 0) {
        r.fail(ptr + "/param", "GC-1208", "parameter '" + axis.name + "' is both fixed in /params and swept");
      }
      axis.values = read_values(p.unit);
      for (std::size_t k = 0; k < axis.values.size(); ++k) {
        if (const std::string why = tpl.range_violation(p.name, axis.values[k]); !why.empty()) {
          r.fail(a.contains("values") ? ptr + "/values/" + std::to_string(k) : ptr, "GC-1110", why);
        }
      }
    } else if (a.contains("option")) {
      r.check_keys(a, ptr, {"option", "values", "linspace", "logspace", "description"});
      axis.kind = Axis::Kind::kOption;
      axis.name = r.string(a["option"], ptr + "/option");
      if (!is_identifier(axis.name)) r.fail(ptr + "/option", "GC-1205", "option names are identifiers");
      axis.unit = axis.name == "temp" || axis.name == "tnom" ? "degC" : "1";
      axis.description = axis.name == "temp" ? "circuit temperature" : "ngspice option " + axis.name;
      axis.values = read_values(axis.unit);
    } else if (a.contains("corner")) {
      r.check_keys(a, ptr, {"corner", "values", "description", "name"});
      axis.kind = Axis::Kind::kCorner;
      axis.name = "corner";
      // Several corner axes (process, mismatch, ...) need names of their own.
      if (a.contains("name")) {
        axis.name = r.string(a["name"], ptr + "/name");
        if (!is_identifier(axis.name)) r.fail(ptr + "/name", "GC-1205", "expected an identifier, found \"" + axis.name + "\"");
        if (tpl.find_param(axis.name) != nullptr) {
          r.fail(ptr + "/name", "GC-1208", "'" + axis.name + "' is a template parameter; name the corner axis otherwise");
        }
      }
      axis.unit = "1";
      axis.description = "process corner (section of " + r.string(a["corner"], ptr + "/corner") + ")";
      std::filesystem::path lib(r.string(a["corner"], ptr + "/corner"));
      if (lib.is_relative()) lib = (origin.parent_path() / lib).lexically_normal();
      lib = std::filesystem::absolute(lib).lexically_normal();
      const auto& refs = tpl.lib_references();
      const auto ref = std::find_if(refs.begin(), refs.end(), [&](const netlist::LibReference& l) {
        return l.file.lexically_normal() == lib;
      });
      if (ref == refs.end()) {
        std::string have;
        for (const auto& l : refs) have += (have.empty() ? "" : ", ") + l.file.string();
        r.fail(ptr + "/corner", "GC-1210",
               "the template has no `.lib " + lib.string() + " SECTION` line" +
                   (have.empty() ? std::string(" (it has no .lib lines)") : "; it uses: " + have),
               "corner paths are relative to the spec file");
      }
      axis.lib_file = ref->file;
      // The renderer sets the section of every `.lib` line of this file: with
      // two lines (a process corner and a statistical section of one PDK file,
      // gf180-style) both would silently get the same section.
      std::vector<int> lines;
      for (const auto& l : refs) {
        if (l.file.lexically_normal() == lib) lines.push_back(l.line);
      }
      if (lines.size() > 1) {
        std::string at;
        for (int l : lines) at += (at.empty() ? "" : ", ") + std::to_string(l);
        r.fail(ptr + "/corner", "GC-1219",
               "the template reads " + lib.string() + " in " + std::to_string(lines.size()) + " `.lib FILE SECTION` lines (" +
                   tpl_path.filename().string() + " lines " + at + "); a corner axis sets the section of every one of them",
               "give the varied sections a library file of their own, e.g. corners.lib with `.lib tt` ... "
               "`.lib \"models.lib\" tt` ... `.endl tt` (docs/pdk.md)");
      }
      for (const auto& other : spec.axes) {
        if (other.kind == Axis::Kind::kCorner && other.lib_file == ref->file) {
          r.fail(ptr + "/corner", "GC-1219", "another corner axis ('" + other.name + "') already chooses the section of " +
                                                 ref->file.string());
        }
      }
      const auto sections = netlist::library_sections(ref->file);
      const json& values = r.array(r.require(a, ptr, "values"), ptr + "/values");
      for (std::size_t k = 0; k < values.size(); ++k) {
        const std::string vp = ptr + "/values/" + std::to_string(k);
        std::string section = r.string(values[k], vp);
        std::transform(section.begin(), section.end(), section.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
          std::string have;
          for (const auto& x : sections) have += (have.empty() ? "" : ", ") + x;
          r.fail(vp, "GC-1210", "section '" + section + "' is not in " + ref->file.string() + "; it defines: " + have);
        }
        axis.labels.push_back(section);
        axis.values.push_back(static_cast<double>(k));
      }
    } else {
      r.check_keys(a, ptr, {"monte_carlo", "description"});
      const std::string mp = ptr + "/monte_carlo";
      const json& mc = r.object(a["monte_carlo"], mp);
      r.check_keys(mc, mp, {"samples", "seed", "vary"});
      if (spec.monte_carlo.samples > 0) r.fail(mp, "GC-1208", "only one Monte Carlo axis is allowed");
      const json& n = r.require(mc, mp, "samples");
      if (!n.is_number_integer() || n.get<long long>() < 1) {
        r.fail(mp + "/samples", "GC-1203", "expected an integer >= 1, found " + shown(n));
      }
      if (n.get<long long>() > static_cast<long long>(limits::kMaxListValues)) {
        r.fail(mp + "/samples", "GC-1209", "at most " + std::to_string(limits::kMaxListValues) +
                                               " samples (limits::kMaxListValues, docs/cli.md#limits)");
      }
      const json& seed = r.require(mc, mp, "seed");
      if (!seed.is_number_integer() || seed.get<long long>() < 0) {
        r.fail(mp + "/seed", "GC-1203", "expected an integer >= 0, found " + shown(seed));
      }
      spec.monte_carlo.samples = static_cast<std::size_t>(n.get<long long>());
      spec.monte_carlo.seed = seed.get<std::uint64_t>();
      const json& vary = r.object(r.require(mc, mp, "vary"), mp + "/vary");
      if (vary.empty()) r.fail(mp + "/vary", "GC-1205", "name at least one parameter to vary");
      for (auto it = vary.begin(); it != vary.end(); ++it) {
        const std::string vp = mp + "/vary/" + it.key();
        const auto& p = template_param(it.key(), vp);
        const json& d = r.object(it.value(), vp);
        r.check_keys(d, vp, {"sigma"});
        const double sigma = r.number(r.require(d, vp, "sigma"), vp + "/sigma", p.unit);
        if (!(sigma >= 0)) r.fail(vp + "/sigma", "GC-1205", "sigma must be >= 0");
        spec.monte_carlo.sigma[p.name] = sigma;
      }
      axis.kind = Axis::Kind::kMonteCarlo;
      axis.name = "mc_sample";
      axis.unit = "1";
      axis.description = "Monte Carlo sample (seed " + std::to_string(spec.monte_carlo.seed) + ")";
      for (std::size_t k = 0; k < spec.monte_carlo.samples; ++k) axis.values.push_back(static_cast<double>(k));
    }
    if (a.contains("description")) axis.description = r.string(a["description"], ptr + "/description");
    if (!swept.insert(axis.name).second) {
      r.fail(ptr, "GC-1208", "'" + axis.name + "' is swept twice",
             axis.kind == Axis::Kind::kCorner ? "give each corner axis a \"name\" of its own, e.g. \"mismatch\"" : "");
    }
    if (axis.values.empty()) r.fail(ptr + "/values", "GC-1205", "an axis needs at least one value");
    spec.axes.push_back(std::move(axis));
  }
  for (const auto& [name, sigma] : spec.monte_carlo.sigma) {
    if (swept.count(name) != 0) {
      r.fail("/axes", "GC-1208", "parameter '" + name + "' is both swept and varied by Monte Carlo");
    }
  }
  if (spec.axes.empty()) r.fail("/axes", "GC-1205", "a sweep needs at least one axis");
  {
    std::size_t points = 1;
    for (const auto& a : spec.axes) {
      if (a.values.size() > limits::kMaxPoints / points) {
        r.fail("/axes", "GC-1209", "the axes span more than " + std::to_string(limits::kMaxPoints) +
                                       " points (limits::kMaxPoints, docs/cli.md#limits)",
               "split the sweep into several specs, or coarsen an axis");
      }
      points *= a.values.size();
    }
  }

  const json& analysis = r.object(r.require(root, "", "analysis"), "/analysis");
  r.check_keys(analysis, "/analysis", {"tran"});
  const json& tran = r.object(r.require(analysis, "/analysis", "tran"), "/analysis/tran");
  r.check_keys(tran, "/analysis/tran", {"step", "stop", "start", "max_step"});
  spec.tran.step_s = r.number(r.require(tran, "/analysis/tran", "step"), "/analysis/tran/step", "s");
  spec.tran.stop_s = r.number(r.require(tran, "/analysis/tran", "stop"), "/analysis/tran/stop", "s");
  if (tran.contains("start")) spec.tran.start_s = r.number(tran["start"], "/analysis/tran/start", "s");
  if (tran.contains("max_step")) spec.tran.max_step_s = r.number(tran["max_step"], "/analysis/tran/max_step", "s");
  if (!(spec.tran.step_s > 0)) r.fail("/analysis/tran/step", "GC-1205", "the time step must be > 0 s");
  if (!(spec.tran.stop_s > spec.tran.start_s)) {
    r.fail("/analysis/tran/stop", "GC-1205", "the stop time must be later than the start time");
  }
  if (spec.tran.max_step_s < 0) r.fail("/analysis/tran/max_step", "GC-1205", "max_step must be >= 0 s");
  // ngspice takes at least (stop - start) / step time points (and / max_step):
  // a step far too small fills the worker's memory without end.
  for (const auto& [key, dt] : {std::pair<const char*, double>{"step", spec.tran.step_s}, {"max_step", spec.tran.max_step_s}}) {
    if (dt > 0 && (spec.tran.stop_s - spec.tran.start_s) / dt > limits::kMaxTranSteps) {
      r.fail(std::string("/analysis/tran/") + key, "GC-1205",
             "(stop - start) / " + std::string(key) + " is more than " + std::to_string(limits::kMaxTranSteps) +
                 " time points (limits::kMaxTranSteps, docs/cli.md#limits)",
             "a transient of this length needs a coarser step");
    }
  }

  if (root.contains("options")) {
    const json& options = r.object(root["options"], "/options");
    for (auto it = options.begin(); it != options.end(); ++it) {
      const std::string ptr = "/options/" + it.key();
      if (!is_identifier(it.key())) r.fail(ptr, "GC-1205", "option names are identifiers");
      if (it.value().is_string() && (it.value() == "gear" || it.value() == "trap")) {
        if (it.key() != "method") r.fail(ptr, "GC-1205", "only 'method' takes gear/trap");
        spec.options.emplace_back(it.key(), it.value().get<std::string>());
        continue;
      }
      spec.options.emplace_back(it.key(), netlist::format_exact(r.number(it.value(), ptr, "")));
    }
  }

  const json& measures = r.array(r.require(root, "", "measures"), "/measures");
  if (measures.empty()) r.fail("/measures", "GC-1205", "a sweep needs at least one measure");
  std::set<std::string> names;
  for (std::size_t i = 0; i < measures.size(); ++i) {
    const std::string ptr = "/measures/" + std::to_string(i);
    const json& m = r.object(measures[i], ptr);
    r.check_keys(m, ptr, {"name", "kind", "unit", "description", "of", "voltage", "current", "scale",
                          "from", "to", "at", "threshold", "times", "leakage"});
    MeasureSpec ms;
    if (m.contains("leakage")) {
      if (!m["leakage"].is_boolean()) {
        r.fail(ptr + "/leakage", "GC-1203", "expected true or false, found " + shown(m["leakage"]));
      }
      ms.leakage = m["leakage"].get<bool>();
    }
    ms.name = r.string(r.require(m, ptr, "name"), ptr + "/name");
    if (!is_identifier(ms.name)) r.fail(ptr + "/name", "GC-1205", "expected an identifier, found \"" + ms.name + "\"");
    if (!names.insert(ms.name).second) r.fail(ptr + "/name", "GC-1208", "measure '" + ms.name + "' is defined twice");
    const std::string kind = r.string(r.require(m, ptr, "kind"), ptr + "/kind");
    if (!measure_kind_from_string(kind, &ms.kind)) {
      r.fail(ptr + "/kind", "GC-1205",
             "unknown measure kind \"" + kind +
                 "\"; expected integral, value_at, energy, average, min, max, time_above or trace");
    }
    ms.unit = r.string(r.require(m, ptr, "unit"), ptr + "/unit");
    if (m.contains("description")) ms.description = r.string(m["description"], ptr + "/description");
    auto vector = [&](const char* key) {
      const std::string v = r.string(r.require(m, ptr, key), ptr + "/" + key);
      if (!is_vector_name(v)) {
        r.fail(ptr + "/" + key, "GC-1205",
               "expected a vector such as \"v(node)\", \"v(a,b)\", \"i(vsource)\" or \"@device[param]\", found \"" + v + "\"");
      }
      try {
        vector_terms(v);
      } catch (const MeasureError& e) {
        r.fail(ptr + "/" + key, "GC-1205", e.what());
      }
      std::string low = v;
      std::transform(low.begin(), low.end(), low.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return low;
    };
    if (ms.kind == MeasureKind::kEnergy) {
      ms.voltage = vector("voltage");
      ms.current = vector("current");
      if (m.contains("of")) r.fail(ptr + "/of", "GC-1204", "an energy measure takes \"voltage\" and \"current\", not \"of\"");
    } else {
      ms.of = vector("of");
    }
    if (m.contains("scale")) ms.scale = r.number(m["scale"], ptr + "/scale", "");
    if (ms.kind == MeasureKind::kTimeAbove) {
      ms.threshold = r.number(r.require(m, ptr, "threshold"), ptr + "/threshold", "");
    } else if (m.contains("threshold")) {
      r.fail(ptr + "/threshold", "GC-1204", "\"threshold\" belongs to time_above measures", "", true);
    }
    if (ms.kind == MeasureKind::kTrace) {
      ms.times_s = r.number_list(r.require(m, ptr, "times"), ptr + "/times", "s");
      if (ms.times_s.empty()) r.fail(ptr + "/times", "GC-1205", "a trace needs at least one time");
      if (ms.times_s.size() > limits::kMaxTraceSamples) {
        r.fail(ptr + "/times", "GC-1205", std::to_string(ms.times_s.size()) + " samples: a trace holds at most " +
                                              std::to_string(limits::kMaxTraceSamples) +
                                              " per point (limits::kMaxTraceSamples, docs/cli.md#limits)");
      }
      for (std::size_t k = 1; k < ms.times_s.size(); ++k) {
        if (!(ms.times_s[k] > ms.times_s[k - 1])) {
          r.fail(ptr + "/times", "GC-1205", "trace times must increase");
        }
      }
      if (m.contains("from") || m.contains("to") || m.contains("at")) {
        r.fail(ptr, "GC-1204", "a trace takes \"times\", not \"at\" or a window");
      }
    } else if (m.contains("times")) {
      r.fail(ptr + "/times", "GC-1204", "\"times\" belongs to trace measures", "", true);
    }
    if (ms.kind == MeasureKind::kTrace) {
      // times only
    } else if (ms.kind == MeasureKind::kValueAt) {
      if (m.contains("at")) ms.at = r.time(m["at"], ptr + "/at", tpl);
      if (m.contains("from") || m.contains("to")) r.fail(ptr, "GC-1204", "value_at takes \"at\", not a window");
    } else {
      if (m.contains("from")) ms.from = r.time(m["from"], ptr + "/from", tpl);
      if (m.contains("to")) ms.to = r.time(m["to"], ptr + "/to", tpl);
      if (m.contains("at")) r.fail(ptr + "/at", "GC-1204", "\"at\" belongs to value_at measures");
    }
    // A fixed time outside the transient fails every point: say so now.
    for (const auto& [key, t] : {std::pair<const char*, const TimeRef*>{"at", &ms.at}, {"from", &ms.from}, {"to", &ms.to}}) {
      if (m.contains(key) && t->kind == TimeRef::Kind::kNumber &&
          !(t->value_s >= spec.tran.start_s && t->value_s <= spec.tran.stop_s)) {
        r.fail(ptr + "/" + key, "GC-1205", netlist::format_exact(t->value_s) + " s is outside the transient (" +
                                                netlist::format_exact(spec.tran.start_s) + " s to " +
                                                netlist::format_exact(spec.tran.stop_s) + " s)");
      }
    }
    if (ms.kind == MeasureKind::kTrace &&
        (ms.times_s.front() < spec.tran.start_s || ms.times_s.back() > spec.tran.stop_s)) {
      r.fail(ptr + "/times", "GC-1205", "trace times must lie within the transient (" +
                                            netlist::format_exact(spec.tran.start_s) + " s to " +
                                            netlist::format_exact(spec.tran.stop_s) + " s)");
    }
    spec.measures.push_back(std::move(ms));
  }

  // Retention and leakage need tiny gmin and abstol: with ngspice's defaults
  // (gmin 1e-12 S, abstol 1e-12 A) the gmin conductance across junctions
  // alone discharges a fF storage node in about a millisecond.
  for (std::size_t i = 0; i < spec.measures.size(); ++i) {
    if (!spec.measures[i].leakage) continue;
    for (const char* option : {"gmin", "abstol"}) {
      const auto it = std::find_if(spec.options.begin(), spec.options.end(),
                                   [&](const auto& o) { return o.first == option; });
      const double value = it == spec.options.end() ? 1e-12 : netlist::parse_si(it->second);
      if (value > kLeakageToleranceMax) {
        r.fail(it == spec.options.end() ? "/options" : std::string("/options/") + option, "GC-1211",
               "measure '" + spec.measures[i].name + "' is leakage-sensitive but " + option + " = " +
                   netlist::format_exact(value) + (it == spec.options.end() ? " (ngspice's default)" : "") +
                   "; retention needs gmin <= 1e-18 and abstol <= 1e-18",
               "with larger values the gmin conductance fakes the leak (a 1.9 ms apparent retention instead "
               "of 28 ms in gaincell's planning measurements)");
      }
    }
  }

  if (root.contains("ngspice_init")) {
    const json& list = r.array(root["ngspice_init"], "/ngspice_init");
    bool has_mode = false;
    for (std::size_t k = 0; k < list.size(); ++k) {
      const std::string ptr = "/ngspice_init/" + std::to_string(k);
      const spice::InitLineCheck c = spice::check_init_line(r.string(list[k], ptr));
      if (!c.ok()) r.fail(ptr, c.id, c.message, c.hint);
      if (std::find(spec.ngspice_init.begin(), spec.ngspice_init.end(), c.line) != spec.ngspice_init.end()) {
        r.fail(ptr, "GC-1208", "\"" + c.line + "\" is given twice");
      }
      if (c.line.rfind("set ngbehavior=", 0) == 0) {
        if (has_mode) r.fail(ptr, "GC-1218", "a second 'set ngbehavior' line (ngspice would keep only the last)", spice::allowed_init_forms());
        has_mode = true;
      }
      spec.ngspice_init.push_back(c.line);
    }
  }

  if (root.contains("timeout_s")) {
    spec.timeout_s = r.number(root["timeout_s"], "/timeout_s", "s");
    if (!(spec.timeout_s > 0 && spec.timeout_s <= limits::kMaxTimeout_s)) {
      r.fail("/timeout_s", "GC-1205", "the timeout must be > 0 s and at most " + netlist::format_exact(limits::kMaxTimeout_s) +
                                          " s (limits::kMaxTimeout_s, docs/cli.md#limits)");
    }
  }
  return spec;
}

}  // namespace gaincell::sweep

namespace gaincell::sweep {
namespace {

// splitmix64: a good 64-bit mix, used as a counter-based generator.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

double monte_carlo_normal(std::uint64_t seed, std::size_t sample, const std::string& name) {
  std::uint64_t h = mix(seed);
  for (unsigned char c : name) h = mix(h ^ c);
  h = mix(h ^ mix(static_cast<std::uint64_t>(sample)));
  // Two uniforms in (0, 1) from 53-bit mantissas, then Box-Muller.
  const double u1 = (static_cast<double>(mix(h) >> 11) + 0.5) * 0x1.0p-53;
  const double u2 = (static_cast<double>(mix(h + 1) >> 11) + 0.5) * 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

double monte_carlo_value(const SweepSpec& spec, const std::string& name, std::size_t sample) {
  const auto fixed = spec.params.find(name);
  const double nominal = fixed != spec.params.end() ? fixed->second : spec.netlist.find_param(name)->default_value;
  return nominal + spec.monte_carlo.sigma.at(name) * monte_carlo_normal(spec.monte_carlo.seed, sample, name);
}

}  // namespace gaincell::sweep
