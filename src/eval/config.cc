// SPDX-License-Identifier: MIT
#include "gaincell/eval/config.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/json_reader.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/json_location.h"

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
  throw_input_error(o.at(pointer), "GC-1703", "expected " + expected + "; found " + got.dump());
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
      throw_input_error(o.at(ptr + "/" + key), "GC-1702", "unknown scaler field \"" + key + "\"",
                        "a scaler has the fields a (gain) and b (offset)");
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

const char* kKeys =
    "preset, levels_q, levels_kv, levels_out, clamp_q, clamp_kv, clamp_out, offset_v, vin_v, window, "
    "tile_keys, decay_per_token, decay_rule, decay_bf16, s_sat, stage2_scale, scaler_q, scaler_k, "
    "scaler_v, scaler_out, cell, poly_coefficients, linear_gain, cell_model, c2p_model, "
    "projection_degree, c_line_f, line_v, sign_scheme, threads";

void apply_key(EvalConfig& c, const Origin& o, const std::string& key, const json& v) {
  const std::string ptr = "/" + key;
  if (key == "preset") {
    if (!v.is_string()) bad(o, ptr, "a preset name", v);
    // A preset resets everything; it must come first (files apply it before other keys).
    c = preset(v.get<std::string>());
  } else if (key == "levels_q") {
    c.levels_q = levels(o, ptr, v);
  } else if (key == "levels_kv") {
    c.levels_kv = levels(o, ptr, v);
  } else if (key == "levels_out") {
    c.levels_out = levels(o, ptr, v);
  } else if (key == "clamp_q") {
    c.clamp_q = range(o, ptr, v);
  } else if (key == "clamp_kv") {
    c.clamp_kv = range(o, ptr, v);
  } else if (key == "clamp_out") {
    c.clamp_out = range(o, ptr, v);
  } else if (key == "offset_v") {
    c.offset_v = number(o, ptr, v);
  } else if (key == "vin_v") {
    c.vin_v = number(o, ptr, v);
  } else if (key == "window") {
    c.window = positive_int(o, ptr, v, 1 << 24);
  } else if (key == "tile_keys") {
    c.tile_keys = positive_int(o, ptr, v, 4096);
  } else if (key == "decay_per_token") {
    c.decay_per_token = number(o, ptr, v);
    if (!(c.decay_per_token >= 0) || !std::isfinite(c.decay_per_token)) bad(o, ptr, "a finite number >= 0", v);
  } else if (key == "decay_rule") {
    if (v == "per_order") {
      c.decay_rule = DecayRule::kPerOrder;
    } else if (v == "global") {
      c.decay_rule = DecayRule::kGlobal;
    } else {
      bad(o, ptr, "\"per_order\" or \"global\"", v);
    }
  } else if (key == "decay_bf16") {
    if (!v.is_boolean()) bad(o, ptr, "true or false", v);
    c.decay_bf16 = v.get<bool>();
  } else if (key == "s_sat") {
    c.s_sat = number(o, ptr, v);
    if (!(c.s_sat > 0)) bad(o, ptr, "a number > 0", v);
  } else if (key == "stage2_scale") {
    c.stage2_scale = number(o, ptr, v);
    if (!(c.stage2_scale > 0)) bad(o, ptr, "a number > 0", v);
  } else if (key == "scaler_q") {
    apply_scaler(c.scaler_q, o, ptr, v);
  } else if (key == "scaler_k") {
    apply_scaler(c.scaler_k, o, ptr, v);
  } else if (key == "scaler_v") {
    apply_scaler(c.scaler_v, o, ptr, v);
  } else if (key == "scaler_out") {
    apply_scaler(c.scaler_out, o, ptr, v);
  } else if (key == "cell") {
    if (v == "poly") {
      c.cell = CellKind::kPoly;
    } else if (v == "linear") {
      c.cell = CellKind::kLinear;
    } else if (v == "fitted") {
      c.cell = CellKind::kFitted;
    } else if (v == "ode") {
      c.cell = CellKind::kOde;
    } else {
      bad(o, ptr, "\"poly\", \"linear\", \"fitted\" or \"ode\"", v);
    }
  } else if (key == "poly_coefficients") {
    if (!v.is_array() || v.size() != 10) bad(o, ptr, "a list of the 10 coefficients C_ij (i outer, j inner)", v);
    for (std::size_t i = 0; i < 10; ++i) c.poly_coefficients[i] = number(o, ptr + "/" + std::to_string(i), v[i]);
  } else if (key == "linear_gain") {
    c.linear_gain = number(o, ptr, v);
  } else if (key == "cell_model") {
    c.cell_model = model_path(o, ptr, v);
  } else if (key == "c2p_model") {
    c.c2p_model = model_path(o, ptr, v);
  } else if (key == "projection_degree") {
    c.projection_degree = positive_int(o, ptr, v, 9);
  } else if (key == "c_line_f") {
    c.c_line_f = number(o, ptr, v);
    if (!(c.c_line_f > 0)) bad(o, ptr, "a capacitance > 0 in F", v);
  } else if (key == "line_v") {
    c.line_v = number(o, ptr, v);
    if (!std::isfinite(c.line_v)) bad(o, ptr, "a finite voltage", v);
  } else if (key == "sign_scheme") {
    if (v == "signed") {
      c.sign_scheme = cell::SignScheme::kSigned;
    } else if (v == "reference_column") {
      c.sign_scheme = cell::SignScheme::kReferenceColumn;
    } else if (v == "differential") {
      c.sign_scheme = cell::SignScheme::kDifferential;
    } else {
      bad(o, ptr, "\"signed\", \"reference_column\" or \"differential\"", v);
    }
  } else if (key == "threads") {
    if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > limits::kMaxJobs) {
      bad(o, ptr, "an integer in [0, " + std::to_string(limits::kMaxJobs) + "] (0 = one per core; limits::kMaxJobs)", v);
    }
    c.threads = static_cast<int>(v.get<long long>());
  } else {
    throw_input_error(o.at(ptr), "GC-1702", "unknown key \"" + key + "\"", std::string("known keys: ") + kKeys);
  }
}

json scaler_json(const Scaler& s) {
  auto one = [](const std::vector<double>& v) { return v.size() == 1 ? json(v[0]) : json(v); };
  return json{{"a", one(s.a)}, {"b", one(s.b)}};
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
  throw InputError("GC-1701", "error GC-1701: unknown evaluator preset \"" + name + "\"; known: " + known);
}

void apply_config_json(EvalConfig& config, const json& j, const fs::path& file, const std::string& text) {
  const Origin o{file, &text};
  if (!j.is_object()) bad(o, "", "a JSON object of evaluator settings", j);
  if (j.contains("preset")) apply_key(config, o, "preset", j.at("preset"));
  for (const auto& [key, value] : j.items()) {
    if (key == "preset") continue;
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
    throw InputError("GC-1705", "error GC-1705: --set \"" + setting + "\": expected key=value (e.g. window=256)");
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
      throw InputError("GC-1705", "error GC-1705: --set \"" + setting + "\": only scaler_q/k/v/out have fields (scaler_k.b=0.4)");
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
    throw InputError("GC-1703", "error GC-1703: evaluator configuration: " + what);
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
  auto lv = [](int n) { return n <= 0 ? json("off") : json(n); };
  json j{{"preset", c.preset},
         {"levels_q", lv(c.levels_q)},
         {"levels_kv", lv(c.levels_kv)},
         {"levels_out", lv(c.levels_out)},
         {"clamp_q", c.clamp_q},
         {"clamp_kv", c.clamp_kv},
         {"clamp_out", c.clamp_out},
         {"offset_v", c.offset_v},
         {"vin_v", c.vin_v},
         {"window", c.window},
         {"tile_keys", c.tile_keys},
         {"decay_per_token", c.decay_per_token},
         {"decay_rule", to_string(c.decay_rule)},
         {"decay_bf16", c.decay_bf16},
         {"s_sat", c.s_sat},
         {"stage2_scale", c.stage2_scale},
         {"scaler_q", scaler_json(c.scaler_q)},
         {"scaler_k", scaler_json(c.scaler_k)},
         {"scaler_v", scaler_json(c.scaler_v)},
         {"scaler_out", scaler_json(c.scaler_out)},
         {"cell", to_string(c.cell)},
         {"poly_coefficients", c.poly_coefficients},
         {"linear_gain", c.linear_gain},
         {"projection_degree", c.projection_degree},
         {"c_line_f", c.c_line_f},
         {"line_v", c.line_level_v()},
         {"sign_scheme", cell::to_string(c.sign_scheme)},
         {"threads", c.threads}};
  if (!c.cell_model.empty()) j["cell_model"] = c.cell_model.string();
  if (!c.c2p_model.empty()) j["c2p_model"] = c.c2p_model.string();
  return j;
}

std::string to_string(DecayRule rule) { return rule == DecayRule::kPerOrder ? "per_order" : "global"; }

std::string to_string(CellKind kind) {
  switch (kind) {
    case CellKind::kPoly: return "poly";
    case CellKind::kLinear: return "linear";
    case CellKind::kFitted: return "fitted";
    case CellKind::kOde: return "ode";
  }
  return "?";
}

}  // namespace gaincell::eval
