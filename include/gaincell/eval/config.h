// SPDX-License-Identifier: MIT
// File: gaincell/eval/config.h
//
// The evaluator's configuration: every parameter of the authors' forward pass
// (quantization, clamps, window, tiling, decay, the two scales, per-head
// scalers) plus the cell model. Documented key by key in docs/evaluator.md.
// A configuration starts from a preset, then a JSON file (a flat object of
// the keys below, any subset), then `key=value` overrides (--set); every
// front end (gaincell eval, spice-check, the Python module) resolves it with
// resolve_config. The keys are one table in config.cc (config_keys()): it
// reads, writes and checks them.
//
//   EvalConfig c = resolve_config("reference", "my.json", {"window=256", "scaler_k.b=0.4"});
//   // the same as:
//   EvalConfig d = preset("reference");
//   apply_config_file(d, "my.json");
//   apply_setting(d, "window=256");
//   apply_setting(d, "scaler_k.b=0.4");
//   validate(d);
#pragma once

#include <array>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gaincell/cell/card.h"

namespace gaincell::eval {

// y = a * x + b, a and b per head (one value = every head).
struct Scaler {
  std::vector<double> a{1.0};
  std::vector<double> b{0.0};
  double a_of(std::size_t head) const { return a.size() == 1 ? a[0] : a.at(head); }
  double b_of(std::size_t head) const { return b.size() == 1 ? b[0] : b.at(head); }
};

enum class DecayRule { kPerOrder, kGlobal };

// poly:   the authors' 10 coefficients collapsed at vin_v (reference units).
// linear: f(w) = linear_gain (w - offset_v) (the LinearDRAM model).
// fitted: a fitted read-current model at constant line voltage, in physical
//         units, with the C2P fit (docs/evaluator.md, "fitted mode").
// ode:    a fitted two-input read-current model I(v_store, v_line) with the
//         line node integrated over time (Boost.Odeint).
enum class CellKind { kPoly, kLinear, kFitted, kOde };

inline constexpr std::array<double, 10> kAuthorsPolyCoefficients = {
    0.17393044, 0.15653739, 0.14088365, 0.12679529, 5.51975209,
    4.96777688, 4.4709992,  -1.44776001, -1.30298401, 46.05483778};

struct EvalConfig {
  std::string preset = "reference";
  int levels_q = 16;    // query DAC levels; 0 = off
  int levels_kv = 8;    // K, V write DAC levels; 0 = off
  int levels_out = 32;  // output ADC levels; 0 = off
  std::array<double, 2> clamp_q{0.0, 1.0};
  std::array<double, 2> clamp_kv{0.0, 0.9};
  std::array<double, 2> clamp_out{-1.0, 1.0};
  double offset_v = 0.45;  // VDD/2: the zero of the stored offset (w - offset)
  double vin_v = 0.9;      // read word line voltage (collapses the poly)
  int window = 1024;       // W: query t sees keys t-W+1 .. t
  int tile_keys = 64;      // keys per second-stage sub-array
  double decay_per_token = 1.6e-4;
  DecayRule decay_rule = DecayRule::kPerOrder;
  bool decay_bf16 = true;     // bfloat16 stage-1 decay mask (HEAD)
  double s_sat = 80.0;        // phi = clamp(S / s_sat, 0, 1)
  double stage2_scale = 40.0; // y = clamp(A / stage2_scale, -1, 1)
  Scaler scaler_q{{1.0}, {0.0}};
  Scaler scaler_k{{1.0}, {0.45}};
  Scaler scaler_v{{1.0}, {0.45}};
  Scaler scaler_out{{1.0}, {0.0}};
  CellKind cell = CellKind::kPoly;
  std::array<double, 10> poly_coefficients = kAuthorsPolyCoefficients;
  double linear_gain = 19.3;
  // Physical modes (fitted, ode).
  std::filesystem::path cell_model;  // read-current model file (A vs v_store[, v_line])
  std::filesystem::path c2p_model;   // HardSigmoid C2P model file (pulse width vs charge)
  int projection_degree = 7;         // fitted: polynomial in (w - offset) of this degree
  double c_line_f = 10e-12;          // ode: read line capacitance (10 pF: 1 pC moves it 0.1 V)
  // The read line's level: held there (fitted) or precharged to it (ode).
  // NaN: offset_v (the paper's integrator at VDD/2).
  double line_v = std::numeric_limits<double>::quiet_NaN();
  // How signed values are formed (physical modes): the cell itself (signed),
  // minus a reference column storing offset_v, or a differential pair storing
  // w and 2 offset_v - w (docs/cells.md, docs/evaluator.md).
  cell::SignScheme sign_scheme = cell::SignScheme::kSigned;
  int threads = 0;                   // 0 = one per core
  double line_level_v() const { return std::isnan(line_v) ? offset_v : line_v; }
};

// The card's keys over a configuration: offset_v, line_v, clamp_kv (the
// store range), levels_kv (its DAC), levels_q (the PWM levels), sign_scheme,
// and for a precharged line c_line_f. The model files stay as they are.
void apply_card(EvalConfig& config, const cell::CellCard& card);

// Names of the presets: reference, reference_2024, linear, fitted, ode.
std::vector<std::string> preset_names();
// Throws InputError GC-1701 for an unknown name.
EvalConfig preset(const std::string& name);

// Applies a JSON object (keys as in docs/evaluator.md). `file` names the
// source in errors and anchors relative model paths; text is the file's text
// (for line:column), may be empty. Throws GC-1702 (unknown key), GC-1703
// (wrong type or value).
void apply_config_json(EvalConfig& config, const nlohmann::json& j, const std::filesystem::path& file,
                       const std::string& text = "");
// Reads and applies a file (IoError if unreadable, GC-1704 if not JSON).
void apply_config_file(EvalConfig& config, const std::filesystem::path& file);
// "key=value" (value: JSON, else a plain string); "scaler_k.b=0.4". Throws
// GC-1705 for a malformed setting, GC-1702/1703 as above.
void apply_setting(EvalConfig& config, const std::string& setting);

// Checks the whole configuration: the keys that depend on each other, then
// each key's own checks (as apply_config_json makes them). Throws GC-1703.
void validate(const EvalConfig& config);

// Receives one note (a sentence) for the user.
using NoteSink = std::function<void(const std::string& note)>;

// The configuration of a front end: the preset, then the card's keys if a
// card is given (apply_card; the preset's model files are cleared, being the
// default cell's), then the config file (empty: none), then each "key=value"
// setting, then, with a card and a physical cell, the models checked against
// the card (check_models_for_card: its notes go to `note`), then validate.
// Throws as those functions do.
EvalConfig resolve_config(const std::string& preset, const std::filesystem::path& config_file,
                          const std::vector<std::string>& settings, const cell::CellCard* card = nullptr,
                          const NoteSink& note = {});

// One configuration key as docs/evaluator.md lists it.
struct ConfigKeyInfo {
  std::string name;
  std::string type;  // the kind of JSON value, e.g. "levels", "[low, high]", "per_order | global"
  std::string unit;  // "" for none
  std::string doc;   // one line
};
// Every key, "preset" first (the order of the GC-1702 hint).
std::vector<ConfigKeyInfo> config_keys();

// The configuration as JSON (the format apply_config_json reads).
nlohmann::json to_json(const EvalConfig& config);

std::string to_string(DecayRule rule);
std::string to_string(CellKind kind);

}  // namespace gaincell::eval
