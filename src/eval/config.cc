// SPDX-License-Identifier: MIT
#include "gaincell/eval/config.h"

#include <cmath>
#include <functional>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/json_reader.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/json_location.h"
#include "gaincell/eval/cell_model.h"

namespace gaincell::eval {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Where a key sits, for diagnostics.
struct Origin {
  fs::path file;                      // anchors relative model paths ("" = the working directory)
  const std::string* text = nullptr;  // for line:column
  std::string label = "";             // names the source in messages (default: the file)
  SourceLocation at(const std::string& pointer) const {
    SourceLocation loc;
    loc.file = label.empty() ? file.string() : label;
    loc.pointer = pointer;
    if (text != nullptr && !text->empty()) {
      auto [line, col] = locate_json_pointer(*text, pointer);
      loc.line = line;
      loc.column = col;
    }
    return loc;
  }
};

[[noreturn]] void bad(const Origin& o, const std::string& pointer, const std::string& expected,
                      const json& got) {
  throw InputError("GC-1703", "expected " + expected + "; found " + got.dump()).at(o.at(pointer));
}

double number(const Origin& o, const std::string& ptr, const json& v) {
  if (!v.is_number()) bad(o, ptr, "a number", v);
  return v.get<double>();
}

int levels(const Origin& o, const std::string& ptr, const json& v) {
  if (v.is_string() && v.get<std::string>() == "off") return 0;
  if (!v.is_number_integer() || v.get<long long>() < 2 || v.get<long long>() > (1LL << 24)) {
    bad(o, ptr, "an integer number of levels >= 2 (at most 2^24), or \"off\"", v);
  }
  return static_cast<int>(v.get<long long>());
}

int positive_int(const Origin& o, const std::string& ptr, const json& v, long long max) {
  if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > max) {
    bad(o, ptr, "an integer in [1, " + std::to_string(max) + "]", v);
  }
  return static_cast<int>(v.get<long long>());
}

std::array<double, 2> range(const Origin& o, const std::string& ptr, const json& v) {
  if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number() ||
      !(v[0].get<double>() < v[1].get<double>())) {
    bad(o, ptr, "[low, high] with low < high", v);
  }
  return {v[0].get<double>(), v[1].get<double>()};
}

std::vector<double> per_head(const Origin& o, const std::string& ptr, const json& v) {
  if (v.is_number()) return {v.get<double>()};
  if (v.is_array() && !v.empty()) {
    std::vector<double> out;
    for (const auto& e : v) {
      if (!e.is_number()) bad(o, ptr, "a number or a non-empty list of numbers (one per head)", v);
      out.push_back(e.get<double>());
    }
    return out;
  }
  bad(o, ptr, "a number or a non-empty list of numbers (one per head)", v);
}

void apply_scaler(Scaler& s, const Origin& o, const std::string& ptr, const json& v) {
  if (!v.is_object()) bad(o, ptr, "an object {\"a\": ..., \"b\": ...}", v);
  for (const auto& [key, val] : v.items()) {
    if (key == "a") {
      s.a = per_head(o, ptr + "/a", val);
    } else if (key == "b") {
      s.b = per_head(o, ptr + "/b", val);
    } else {
      throw InputError("GC-1702", "unknown scaler field \"" + key + "\"",
                        "a scaler has the fields a (gain) and b (offset)").at(o.at(ptr + "/" + key));
    }
  }
}

fs::path model_path(const Origin& o, const std::string& ptr, const json& v) {
  if (!v.is_string() || v.get<std::string>().empty()) bad(o, ptr, "a model file path", v);
  fs::path p = v.get<std::string>();
  if (p.is_relative() && !o.file.empty()) {
    const fs::path beside = o.file.parent_path() / p;
    std::error_code ec;
    if (fs::exists(beside, ec)) return beside;
  }
  return find_data_file(p);
}

json scaler_json(const Scaler& s) {
  auto one = [](const std::vector<double>& v) { return v.size() == 1 ? json(v[0]) : json(v); };
  return json{{"a", one(s.a)}, {"b", one(s.b)}};
}

// One configuration key: how docs/evaluator.md describes it, how its JSON
// value is checked and stored (read), and written back (write; null = left
// out). validate() reads every written value again (recheck), so that a
// configuration built in code meets the same checks as a file.
struct Key {
  ConfigKeyInfo info;
  std::function<void(EvalConfig&, const Origin&, const std::string& ptr, const json&)> read;
  std::function<json(const EvalConfig&)> write;
  bool recheck = true;
};

// A number with an optional constraint (`expected` names it in errors).
struct Constraint {
  bool (*ok)(double) = nullptr;
  const char* expected = "";
};

Key number_key(ConfigKeyInfo info, double EvalConfig::*field, Constraint check = {}) {
  return {std::move(info),
          [field, check](EvalConfig& c, const Origin& o, const std::string& ptr, const json& v) {
            const double x = number(o, ptr, v);
            if (check.ok != nullptr && !check.ok(x)) bad(o, ptr, check.expected, v);
            c.*field = x;
          },
          [field](const EvalConfig& c) { return json(c.*field); }};
}

Key levels_key(ConfigKeyInfo info, int EvalConfig::*field) {
  return {std::move(info),
          [field](EvalConfig& c, const Origin& o, const std::string& ptr, const json& v) { c.*field = levels(o, ptr, v); },
          [field](const EvalConfig& c) { return c.*field <= 0 ? json("off") : json(c.*field); }};
}

// An integer in [1, max].
Key count_key(ConfigKeyInfo info, int EvalConfig::*field, long long max) {
  return {std::move(info),
          [field, max](EvalConfig& c, const Origin& o, const std::string& ptr, const json& v) {
            c.*field = positive_int(o, ptr, v, max);
          },
          [field](const EvalConfig& c) { return json(c.*field); }};
}

Key range_key(ConfigKeyInfo info, std::array<double, 2> EvalConfig::*field) {
  return {std::move(info),
          [field](EvalConfig& c, const Origin& o, const std::string& ptr, const json& v) { c.*field = range(o, ptr, v); },
          [field](const EvalConfig& c) { return json(c.*field); }};
}

Key scaler_key(ConfigKeyInfo info, Scaler EvalConfig::*field) {
  return {std::move(info),
          [field](EvalConfig& c, const Origin& o, const std::string& ptr, const json& v) { apply_scaler(c.*field, o, ptr, v); },
          [field](const EvalConfig& c) { return scaler_json(c.*field); }};
}

Key path_key(ConfigKeyInfo info, fs::path EvalConfig::*field) {
  return {std::move(info),
          [field](EvalConfig& c, const Origin& o, const std::string& ptr, const json& v) { c.*field = model_path(o, ptr, v); },
          [field](const EvalConfig& c) { return (c.*field).empty() ? json() : json((c.*field).string()); },
          /*recheck=*/false};
}

// "\"a\", \"b\" or \"c\"".
std::string quoted_alternatives(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += (i == 0 ? "" : (i + 1 == names.size() ? " or " : ", ")) + ("\"" + names[i] + "\"");
  }
  return out;
}

// An enumeration written by its to_string names.
template <class E>
Key enum_key(ConfigKeyInfo info, E EvalConfig::*field, std::vector<E> values, std::string (*name)(E)) {
  std::vector<std::string> names;
  for (E e : values) names.push_back(name(e));
  return {std::move(info),
          [field, values, names](EvalConfig& c, const Origin& o, const std::string& ptr, const json& v) {
            for (std::size_t i = 0; i < values.size(); ++i) {
              if (v == names[i]) {
                c.*field = values[i];
                return;
              }
            }
            bad(o, ptr, quoted_alternatives(names), v);
          },
          [field, name](const EvalConfig& c) { return json(name(c.*field)); }};
}

const std::vector<DecayRule> kDecayRules = {DecayRule::kPerOrder, DecayRule::kGlobal};
const std::vector<CellKind> kCellKinds = {CellKind::kPoly, CellKind::kLinear, CellKind::kFitted, CellKind::kOde};

std::string sign_name(cell::SignScheme s) { return cell::to_string(s); }

bool is_non_negative(double x) { return x >= 0 && std::isfinite(x); }
bool is_positive(double x) { return x > 0; }
bool is_finite(double x) { return std::isfinite(x); }

Key preset_key() {
  return {{"preset", "preset name", "", "the preset the other keys apply over (applied first)"},
          [](EvalConfig& c, const Origin& o, const std::string& ptr, const json& v) {
            if (!v.is_string()) bad(o, ptr, "a preset name", v);
            // A preset resets everything; it must come first (files apply it before other keys).
            c = preset(v.get<std::string>());
          },
          [](const EvalConfig& c) { return json(c.preset); },
          /*recheck=*/false};
}

Key poly_coefficients_key() {
  return {{"poly_coefficients", "10 numbers", "µA/V^i", "C_ij of the authors' cubic, i outer, j inner"},
          [](EvalConfig& c, const Origin& o, const std::string& ptr, const json& v) {
            if (!v.is_array() || v.size() != 10) bad(o, ptr, "a list of the 10 coefficients C_ij (i outer, j inner)", v);
            for (std::size_t i = 0; i < 10; ++i) c.poly_coefficients[i] = number(o, ptr + "/" + std::to_string(i), v[i]);
          },
          [](const EvalConfig& c) { return json(c.poly_coefficients); }};
}

Key line_v_key() {
  Key k = number_key({"line_v", "number", "V", "the read line's level: held (fitted), precharged (ode); default offset_v"},
                     &EvalConfig::line_v, {is_finite, "a finite voltage"});
  k.write = [](const EvalConfig& c) { return json(c.line_level_v()); };
  return k;
}

Key threads_key() {
  return {{"threads", "integer", "", "worker threads, 0 = one per core"},
          [](EvalConfig& c, const Origin& o, const std::string& ptr, const json& v) {
            if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > limits::kMaxJobs) {
              bad(o, ptr, "an integer in [0, " + std::to_string(limits::kMaxJobs) + "] (0 = one per core; limits::kMaxJobs)", v);
            }
            c.threads = static_cast<int>(v.get<long long>());
          },
          [](const EvalConfig& c) { return json(c.threads); }};
}

// Every key, once: the order of the "known keys" hint.
const std::vector<Key>& keys() {
  using C = EvalConfig;
  static const std::vector<Key> table = {
      preset_key(),
      levels_key({"levels_q", "levels", "levels", "query DAC (pulse-width) levels, or \"off\""}, &C::levels_q),
      levels_key({"levels_kv", "levels", "levels", "K and V write DAC levels, or \"off\""}, &C::levels_kv),
      levels_key({"levels_out", "levels", "levels", "stage-2 ADC levels, or \"off\" (the clamp stays)"}, &C::levels_out),
      range_key({"clamp_q", "[low, high]", "fraction of t_max", "query range (also the DAC's)"}, &C::clamp_q),
      range_key({"clamp_kv", "[low, high]", "V", "stored-voltage range (also the DAC's)"}, &C::clamp_kv),
      range_key({"clamp_out", "[low, high]", "1", "per-tile output range (also the ADC's)"}, &C::clamp_out),
      number_key({"offset_v", "number", "V", "VDD/2: the zero of the stored offset w - offset_v"}, &C::offset_v),
      number_key({"vin_v", "number", "V", "read word line voltage (collapses the authors' coefficients)"}, &C::vin_v),
      count_key({"window", "integer", "tokens", "sliding window W"}, &C::window, 1 << 24),
      count_key({"tile_keys", "integer", "keys", "keys per stage-2 sub-array"}, &C::tile_keys, 4096),
      number_key({"decay_per_token", "number", "1/token", "retention decay: D(age) = exp(-decay)^age"},
                 &C::decay_per_token, {is_non_negative, "a finite number >= 0"}),
      enum_key({"decay_rule", "per_order | global", "", "how the decay enters the cell polynomial"}, &C::decay_rule,
               kDecayRules, &to_string),
      {{"decay_bf16", "bool", "", "round the stage-1 decay to bfloat16"},
       [](C& c, const Origin& o, const std::string& ptr, const json& v) {
         if (!v.is_boolean()) bad(o, ptr, "true or false", v);
         c.decay_bf16 = v.get<bool>();
       },
       [](const C& c) { return json(c.decay_bf16); }},
      number_key({"s_sat", "number", "units of S", "C2P saturation: phi = clamp(S / s_sat, 0, 1)"}, &C::s_sat,
                 {is_positive, "a number > 0"}),
      number_key({"stage2_scale", "number", "units of A", "stage-2 full scale: y = clamp(A / stage2_scale, -1, 1)"},
                 &C::stage2_scale, {is_positive, "a number > 0"}),
      scaler_key({"scaler_q", "scaler", "", "per-head input scaler of Q"}, &C::scaler_q),
      scaler_key({"scaler_k", "scaler", "", "per-head input scaler of K"}, &C::scaler_k),
      scaler_key({"scaler_v", "scaler", "", "per-head input scaler of V"}, &C::scaler_v),
      scaler_key({"scaler_out", "scaler", "", "per-head output scaler"}, &C::scaler_out),
      enum_key({"cell", "poly | linear | fitted | ode", "", "the cell model"}, &C::cell, kCellKinds, &to_string),
      poly_coefficients_key(),
      number_key({"linear_gain", "number", "µA/V", "gain of the linear cell"}, &C::linear_gain),
      path_key({"cell_model", "path", "", "read-current model file (fitted, ode)"}, &C::cell_model),
      path_key({"c2p_model", "path", "", "HardSigmoid C2P model file (fitted, ode)"}, &C::c2p_model),
      count_key({"projection_degree", "integer", "", "fitted: degree of the projection polynomial"}, &C::projection_degree, 9),
      number_key({"c_line_f", "number", "F", "ode: read line capacitance"}, &C::c_line_f,
                 {is_positive, "a capacitance > 0 in F"}),
      line_v_key(),
      enum_key({"sign_scheme", "signed | reference_column | differential", "", "how signed values are formed"},
               &C::sign_scheme,
               {cell::SignScheme::kSigned, cell::SignScheme::kReferenceColumn, cell::SignScheme::kDifferential},
               &sign_name),
      threads_key()};
  return table;
}

std::string known_keys() {
  std::string out;
  for (const Key& k : keys()) out += (out.empty() ? "" : ", ") + k.info.name;
  return out;
}

void apply_key(EvalConfig& c, const Origin& o, const std::string& key, const json& v) {
  const std::string ptr = "/" + key;
  for (const Key& k : keys()) {
    if (k.info.name == key) return k.read(c, o, ptr, v);
  }
  throw InputError("GC-1702", "unknown key \"" + key + "\"", "known keys: " + known_keys()).at(o.at(ptr));
}

}  // namespace

std::vector<std::string> preset_names() { return {"reference", "reference_2024", "linear", "fitted", "ode"}; }

EvalConfig preset(const std::string& name) {
  EvalConfig c;
  c.preset = name;
  if (name == "reference") return c;
  if (name == "reference_2024") {
    // The earlier simulator (reference-simulator.md §5): global decay in float32, 1e-4 per token.
    c.decay_rule = DecayRule::kGlobal;
    c.decay_bf16 = false;
    c.decay_per_token = 1e-4;
    return c;
  }
  if (name == "linear") {
    // LinearDRAMAttention at HEAD: both MACs linear with gain 19.3, decay on the whole product.
    c.cell = CellKind::kLinear;
    c.decay_rule = DecayRule::kGlobal;
    return c;
  }
  if (name == "fitted" || name == "ode") {
    c.cell = name == "fitted" ? CellKind::kFitted : CellKind::kOde;
    c.decay_bf16 = false;  // the bf16 decay is a GPU artefact of the reference, not physics
    c.cell_model = find_data_file("fits/pushpull.read_current.lut.json");
    c.c2p_model = find_data_file("fits/c2p.hardsigmoid.json");
    return c;
  }
  std::string known;
  for (const auto& n : preset_names()) known += (known.empty() ? "" : ", ") + n;
  throw InputError("GC-1701", "unknown evaluator preset \"" + name + "\"; known: " + known);
}

void apply_config_json(EvalConfig& config, const json& j, const fs::path& file, const std::string& text) {
  const Origin o{file, &text};
  if (!j.is_object()) bad(o, "", "a JSON object of evaluator settings", j);
  if (j.contains("preset")) apply_key(config, o, "preset", j.at("preset"));
  // A scalers file of gaincell calibrate (docs/calibration.md) is a
  // configuration with three more keys: format, version and calibration.
  const bool scalers_file = j.contains("format") && j.at("format") == "gaincell-scalers";
  if (scalers_file && j.value("version", json()) != 1) {
    throw InputError("GC-1734", "a scalers file of version " + j.value("version", json()).dump() +
                                    "; this gaincell reads version 1",
                     "recalibrate with this gaincell (gaincell calibrate)")
        .at(o.at(j.contains("version") ? "/version" : ""));
  }
  for (const auto& [key, value] : j.items()) {
    if (key == "preset") continue;
    if (scalers_file && (key == "format" || key == "version" || key == "calibration")) continue;
    apply_key(config, o, key, value);
  }
}

void apply_config_file(EvalConfig& config, const fs::path& file) {
  const std::string text = read_text_file(file);
  const json j = parse_json_text(text, file.string(), "GC-1704");
  apply_config_json(config, j, file, text);
}

void apply_setting(EvalConfig& config, const std::string& setting) {
  const auto eq = setting.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError("GC-1705", "--set \"" + setting + "\": expected key=value (e.g. window=256)");
  }
  const std::string key = setting.substr(0, eq);
  const std::string text = setting.substr(eq + 1);
  json value;
  try {
    value = parse_json_text(text, "--set " + key, "GC-1705");
  } catch (const InputError&) {
    // A plain string: per_order, off, a path (1e400 too, refused as a number
    // later). Text that looks like an array or object must be valid JSON.
    if (!text.empty() && (text[0] == '[' || text[0] == '{')) throw;
    value = text;
  }
  const Origin o{fs::path(), nullptr, "--set " + setting};
  const auto dot = key.find('.');
  json j;
  if (dot != std::string::npos) {
    const std::string outer = key.substr(0, dot);
    if (outer.rfind("scaler_", 0) != 0) {
      throw InputError("GC-1705", "--set \"" + setting + "\": only scaler_q/k/v/out have fields (scaler_k.b=0.4)");
    }
    j[outer][key.substr(dot + 1)] = value;
  } else {
    j[key] = value;
  }
  // Paths in --set are relative to the working directory.
  for (const auto& [k, v] : j.items()) apply_key(config, o, k, v);
}

void validate(const EvalConfig& c) {
  auto fail = [](const std::string& what) {
    throw InputError("GC-1703", "evaluator configuration: " + what);
  };
  for (const Scaler* s : {&c.scaler_q, &c.scaler_k, &c.scaler_v, &c.scaler_out}) {
    for (double x : s->a) if (!std::isfinite(x)) fail("scaler gains must be finite");
    for (double x : s->b) if (!std::isfinite(x)) fail("scaler offsets must be finite");
  }
  if (c.cell == CellKind::kFitted || c.cell == CellKind::kOde) {
    if (c.cell_model.empty()) fail("cell \"" + to_string(c.cell) + "\" needs cell_model (a read-current model file)");
    if (c.c2p_model.empty()) fail("cell \"" + to_string(c.cell) + "\" needs c2p_model (a HardSigmoid model file)");
  }
  if (!(c.vin_v > 0) || !std::isfinite(c.offset_v)) fail("vin_v must be > 0 and offset_v finite");
  if (c.sign_scheme != cell::SignScheme::kSigned && c.cell != CellKind::kFitted && c.cell != CellKind::kOde) {
    fail("sign_scheme \"" + cell::to_string(c.sign_scheme) + "\" describes a physical cell: it needs cell fitted or ode");
  }
  // Each key's own checks, as a file's value would meet them.
  const Origin o{fs::path(), nullptr, "evaluator configuration"};
  EvalConfig scratch = c;
  for (const Key& k : keys()) {
    if (k.recheck) k.read(scratch, o, "/" + k.info.name, k.write(c));
  }
}

EvalConfig resolve_config(const std::string& preset_name, const fs::path& config_file,
                          const std::vector<std::string>& settings, const cell::CellCard* card, const NoteSink& note) {
  EvalConfig c = preset(preset_name);
  if (card != nullptr) {
    apply_card(c, *card);
    c.cell_model.clear();
    c.c2p_model.clear();
  }
  if (!config_file.empty()) apply_config_file(c, config_file);
  for (const auto& s : settings) apply_setting(c, s);
  if (card != nullptr && (c.cell == CellKind::kFitted || c.cell == CellKind::kOde)) {
    for (const auto& n : check_models_for_card(c, *card)) {
      if (note) note(n);
    }
  }
  validate(c);
  return c;
}

void apply_card(EvalConfig& c, const cell::CellCard& card) {
  c.offset_v = card.offset_v;
  c.line_v = card.line_v;
  c.clamp_kv = {card.store_lo_v, card.store_hi_v};
  c.levels_kv = card.store_levels;
  c.levels_q = card.pulse_levels;
  c.sign_scheme = card.sign;
  if (card.scheme == cell::ReadScheme::kPrecharged) c.c_line_f = card.c_line_f;
}

json to_json(const EvalConfig& c) {
  json j = json::object();
  for (const Key& k : keys()) {
    if (json v = k.write(c); !v.is_null()) j[k.info.name] = std::move(v);
  }
  return j;
}

std::vector<ConfigKeyInfo> config_keys() {
  std::vector<ConfigKeyInfo> out;
  for (const Key& k : keys()) out.push_back(k.info);
  return out;
}

std::string to_string(DecayRule rule) { return rule == DecayRule::kPerOrder ? "per_order" : "global"; }

std::string to_string(CellKind kind) {
  static const char* const kNames[] = {"poly", "linear", "fitted", "ode"};  // in the order of CellKind
  const auto i = static_cast<std::size_t>(kind);
  return i < std::size(kNames) ? kNames[i] : "?";
}

}  // namespace gaincell::eval
