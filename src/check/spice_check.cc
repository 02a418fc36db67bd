// SPDX-License-Identifier: MIT
#include "gaincell/check/spice_check.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <random>
#include <sstream>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/eval/evaluator.h"
#include "gaincell/eval/numerics.h"
#include "gaincell/core/si_value.h"

namespace gaincell::check {
namespace {

using eval::CellKind;
using eval::CellMapping;
using eval::EvalConfig;
using eval::Tensor;

tile::TileResult simulate(const tile::TileSpec& spec, const SpiceCheckOptions& o, const char* what) {
  const tile::TileResult r = tile::run_tile(spec, {o.timeout_s, o.worker});
  if (r.outcome != spice::SimOutcome::kOk) {
    throw Error(std::string("spice check: the ") + what + " tile failed (" + std::string(spice::to_string(r.outcome)) +
                "): " + r.message);
  }
  return r;
}

double max_error_pct(const std::vector<double>& a, const std::vector<double>& b, double fs) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return 100.0 * m / fs;
}

double share(const std::vector<double>& a, const std::vector<double>& b, double tol) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += std::abs(a[i] - b[i]) <= tol ? 1 : 0;
  return a.empty() ? 0.0 : static_cast<double>(n) / static_cast<double>(a.size());
}

std::string pct(double x) {
  std::ostringstream o;
  o.precision(3);
  o << x << " %";
  return o.str();
}

__attribute__((format(printf, 1, 2))) std::string printf_string(const char* format, ...) {
  va_list args, again;
  va_start(args, format);
  va_copy(again, args);
  const int size = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  std::string out(static_cast<std::size_t>(std::max(size, 0)), '\0');
  std::vsnprintf(out.data(), out.size() + 1, format, again);
  va_end(again);
  return out;
}

// Random quantized inputs: Q on the query levels in [0, 1], K and V on the
// DAC levels of the store range.
void draw_inputs(const EvalConfig& base, std::uint64_t seed, SpiceCheckResult& r) {
  const std::size_t n = r.keys, m = r.dims;
  std::mt19937_64 rng(seed);
  const int lq = std::max(base.levels_q, 2), lkv = std::max(base.levels_kv, 2);
  std::uniform_int_distribution<int> q_level(0, lq - 1), kv_level(0, lkv - 1);
  const double lo = base.clamp_kv[0], hi = base.clamp_kv[1];
  for (std::size_t i = 0; i < m; ++i) {
    r.q.push_back(static_cast<double>(
        eval::quantize(static_cast<float>(q_level(rng)) / static_cast<float>(lq - 1), base.levels_q, 0.0, 1.0)));
  }
  auto kv = [&] {
    const float x = static_cast<float>(lo + (hi - lo) * kv_level(rng) / (lkv - 1));
    return static_cast<double>(base.levels_kv > 0 ? eval::quantize(x, base.levels_kv, lo, hi) : x);
  };
  for (std::size_t i = 0; i < n * m; ++i) r.k_v.push_back(kv());
  for (std::size_t i = 0; i < n * m; ++i) r.v_v.push_back(kv());
}

// The evaluator's side of a check: keys 0..n-1, the query at position n-1
// (it sees them all), no decay, no scalers.
struct EvaluatorSide {
  EvalConfig config;
  Tensor Q, K, V;

  EvaluatorSide(const EvalConfig& base, const SpiceCheckResult& r) : config(base) {
    const std::size_t n = r.keys, m = r.dims;
    config.decay_per_token = 0.0;
    for (eval::Scaler* s : {&config.scaler_q, &config.scaler_k, &config.scaler_v, &config.scaler_out}) *s = eval::Scaler{{1.0}, {0.0}};
    config.window = static_cast<int>(n);
    config.tile_keys = std::max<int>(config.tile_keys, static_cast<int>(n));
    Q = {{1, n, m}, std::vector<float>(n * m, 0.0f)};
    K = {{1, n, m}, {}};
    V = {{1, n, m}, {}};
    for (std::size_t i = 0; i < m; ++i) Q.data[(n - 1) * m + i] = static_cast<float>(r.q[i]);
    for (double x : r.k_v) K.data.push_back(static_cast<float>(x));
    for (double x : r.v_v) V.data.push_back(static_cast<float>(x));
  }

  // Runs the evaluator with cell `kind`: stage-1 charges per key (q1),
  // stage-2 charges per dimension from its own phi through the cell's
  // polynomial (q2), and its 5-bit outputs. Returns its cell mapping.
  CellMapping run(CellKind kind, double c_line_f, const SpiceCheckResult& r, std::vector<double>& q1,
                  std::vector<double>& q2, std::vector<double>& out) const {
    const std::size_t n = r.keys, m = r.dims;
    EvalConfig ce = config;
    ce.cell = kind;
    ce.c_line_f = c_line_f;
    const eval::Evaluator ev(ce);
    const eval::EvalResult res = ev.forward(Q, K, V, true);
    const CellMapping& cm = ev.cell();
    q1.clear();
    for (std::size_t s = 0; s < n; ++s) q1.push_back(static_cast<double>(res.S.data[(n - 1) * n + s]) * cm.q_unit_c);
    out.clear();
    for (std::size_t d = 0; d < m; ++d) out.push_back(static_cast<double>(res.output.data[(n - 1) * m + d]));
    q2.clear();
    for (std::size_t d = 0; d < m; ++d) {
      double A = 0;
      for (std::size_t s = 0; s < n; ++s) {
        const double w = r.v_v[s * m + d] - cm.offset_v;
        double f = 0;
        for (std::size_t i = cm.a.size(); i-- > 0;) f = f * w + cm.a[i];
        A += static_cast<double>(res.phi.data[(n - 1) * n + s]) * f;
      }
      q2.push_back(A * cm.q_unit_c);
    }
    return cm;
  }

  // SPICE's stage-2 charges through the same 5-bit ADC.
  std::vector<double> adc_outputs(const std::vector<double>& q2, double full_scale2_c) const {
    const eval::OutputAdc adc = eval::output_adc(config.levels_out, config.clamp_out[0], config.clamp_out[1]);
    std::vector<double> out;
    for (double x : q2) out.push_back(static_cast<double>(adc(static_cast<float>(x / full_scale2_c))));
    return out;
  }
};

// The stage-1 tile: the same circuit as the evaluator (its line level and
// sign scheme), lines held by the converter.
tile::TileSpec stage1_spec(const SpiceCheckOptions& o, const EvalConfig& c, const SpiceCheckResult& r) {
  tile::TileSpec s1 = o.tile ? *o.tile : check_tile(nullptr);
  s1.tokens = r.keys;
  s1.dims = r.dims;
  s1.seed = o.seed;
  s1.q = r.q;
  s1.k_v = r.k_v;
  s1.v_ref_v = c.line_level_v();
  s1.offset_v = c.offset_v;
  s1.sign = c.sign_scheme;
  s1.passive_line = false;
  return s1;
}

// The stage-2 tile: V transposed (one line per dimension), read with phi.
tile::TileSpec stage2_spec(const tile::TileSpec& stage1, const std::vector<double>& phi, const SpiceCheckResult& r) {
  const std::size_t n = r.keys, m = r.dims;
  tile::TileSpec s2 = stage1;
  s2.tokens = m;
  s2.dims = n;
  s2.q.clear();
  for (double p : phi) s2.q.push_back(std::clamp(p, 0.0, 1.0));
  s2.k_v.assign(m * n, 0.0);
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t d = 0; d < m; ++d) s2.k_v[d * n + s] = r.v_v[s * m + d];
  return s2;
}

// Fitted mode against SPICE with held lines: the card's converter holds them
// and gives the pulses of stage 2. Returns the stage-1 tile's result.
tile::TileResult compare_held_lines(const SpiceCheckOptions& o, const EvaluatorSide& ev, const tile::TileSpec& s1,
                                    const CellMapping& cm, SpiceCheckResult& r) {
  const tile::TileResult t1 = simulate(s1, o, "stage-1 (held lines)");
  r.q_spice_c = t1.q_line_c;
  std::vector<double> phi_spice;
  for (double pw : t1.pulse_width_s) phi_spice.push_back(pw / cm.t_max_s);
  const tile::TileResult t2 = simulate(stage2_spec(s1, phi_spice, r), o, "stage-2 (held lines)");
  r.q2_spice_c = t2.q_line_c;
  r.out_spice = ev.adc_outputs(r.q2_spice_c, r.full_scale2_c);
  r.spice_wall_s = t1.wall_time_s + t2.wall_time_s;
  r.charge_error_pct_fs_fitted = max_error_pct(r.q_fitted_c, r.q_spice_c, r.full_scale_c);
  r.charge2_error_pct_fs_fitted = max_error_pct(r.q2_fitted_c, r.q2_spice_c, r.full_scale2_c);
  r.within_1lsb_fitted = share(r.out_fitted, r.out_spice, r.lsb * 1.001);
  r.exact_fitted = share(r.out_fitted, r.out_spice, r.lsb * 0.001);
  return t1;
}

// ODE mode against SPICE with passive lines: each floats on c_line after a
// precharge to the line level; stage 2 reads with the C2P fit of its charges.
void compare_passive_lines(const SpiceCheckOptions& o, const EvaluatorSide& ev, const tile::TileSpec& s1,
                           const CellMapping& cm, SpiceCheckResult& r) {
  tile::TileSpec p1 = s1;
  p1.passive_line = true;
  p1.c_line_f = ev.config.c_line_f;
  const double c_total_1 = p1.c_line_f + p1.c_wire_f * static_cast<double>(r.dims);
  std::vector<double> q2_polynomial;  // run()'s stage-2 charges use the fitted polynomial: not ODE's
  ev.run(CellKind::kOde, c_total_1, r, r.q_ode_c, q2_polynomial, r.out_ode);
  const tile::TileResult pt1 = simulate(p1, o, "stage-1 (passive lines)");
  r.q_spice_passive_c = pt1.q_line_c;
  std::vector<double> phi_passive;
  for (double q : r.q_spice_passive_c) phi_passive.push_back(cm.phi_of_charge(q));
  const tile::TileResult pt2 = simulate(stage2_spec(p1, phi_passive, r), o, "stage-2 (passive lines)");
  r.q2_spice_passive_c = pt2.q_line_c;
  r.out_spice_passive = ev.adc_outputs(r.q2_spice_passive_c, r.full_scale2_c);
  r.spice_wall_s += pt1.wall_time_s + pt2.wall_time_s;
  r.charge_error_pct_fs_ode = max_error_pct(r.q_ode_c, r.q_spice_passive_c, r.full_scale_c);
  r.within_1lsb_ode = share(r.out_ode, r.out_spice_passive, r.lsb * 1.001);
  r.exact_ode = share(r.out_ode, r.out_spice_passive, r.lsb * 0.001);
}

// A failure for each threshold a mode missed.
void check_thresholds(const char* mode, double error_pct, double within, SpiceCheckResult& r) {
  const SpiceCheckThresholds& th = r.thresholds;
  if (!(error_pct <= th.max_charge_error_pct_fs)) {
    r.failures.push_back(std::string(mode) + ": stage-1 charge error " + pct(error_pct) + " of full scale > " +
                         pct(th.max_charge_error_pct_fs));
  }
  if (!(within >= th.min_within_1lsb)) {
    r.failures.push_back(std::string(mode) + ": " + pct(100.0 * within) + " of 5-bit outputs within 1 LSB < " +
                         pct(100.0 * th.min_within_1lsb));
  }
}

// A check that compares nothing is not a pass: the converter must fire on
// some stage-1 line, or stage 2 reads nothing at all. (Small 8 x 8 tiles
// often give 5-bit outputs of 0 and +-1 LSB; their stage-2 charges are
// still compared.)
void check_converter_fired(const tile::TileResult& t1, const CellMapping& cm, SpiceCheckResult& r) {
  const bool fired =
      std::any_of(t1.pulse_width_s.begin(), t1.pulse_width_s.end(), [&](double pw) { return pw > 0.01 * cm.t_max_s; });
  const double q_max = *std::max_element(r.q_spice_c.begin(), r.q_spice_c.end());
  if (!fired) {
    r.failures.push_back("nothing to compare: the converter never fired (largest stage-1 charge " + pct(100.0 * q_max / r.full_scale_c) +
                         " of full scale): the cells must draw charge from the line (positive = sink); a cell that sources "
                         "into it needs another sign or read scheme");
  }
}

// Why a check failed, where the numbers say it ("note: " lines).
void add_failure_notes(const CellMapping& cm, int projection_degree, SpiceCheckResult& r) {
  if (r.failures.empty()) return;
  double q_abs = 0;
  for (double q : r.q_spice_c) q_abs = std::max(q_abs, std::abs(q));
  if (q_abs > 1.05 * cm.q_sat_c) {
    r.failures.push_back("note: stage-1 charges reach " + pct(100.0 * q_abs / cm.q_sat_c) + " of the converter's saturation charge "
                         "(Q_sat): the lines saturate; weaken the read device or raise the converter's saturation (c_int, ramp_top_v)");
  }
  if (cm.projection_max_error_a > 0.005 * cm.current_full_scale_a) {
    r.failures.push_back("note: fitted mode's polynomial (degree " + std::to_string(projection_degree) + ") misses the read current by up to " +
                         pct(100.0 * cm.projection_max_error_a / cm.current_full_scale_a) +
                         " of its full scale (projection_degree up to 9 may help)");
  }
}

bool is_note(const std::string& failure) { return failure.rfind("note: ", 0) == 0; }

}  // namespace

tile::TileSpec check_tile(const cell::CellCard* card, const std::filesystem::path& subckt) {
  if (card != nullptr) return tile::tile_from_card(*card);
  if (!subckt.empty()) return tile::tile_from_subckt(find_data_file(subckt));
  return tile::tile_from_card(cell::load_card(cell::default_card_path()));
}

SpiceCheckResult run_spice_check(const SpiceCheckOptions& o) {
  const std::size_t n = o.keys, m = o.dims;
  if (n < 1 || m < 1 || n > 64 || m > 64) throw InputError("GC-1713", "spice check: keys and dims must be in 1..64");
  SpiceCheckResult r{.keys = n, .dims = m, .seed = o.seed, .thresholds = o.thresholds};
  draw_inputs(o.config, o.seed, r);
  const EvaluatorSide ev(o.config, r);
  const tile::TileSpec s1 = stage1_spec(o, ev.config, r);
  const CellMapping cm = ev.run(CellKind::kFitted, ev.config.c_line_f, r, r.q_fitted_c, r.q2_fitted_c, r.out_fitted);
  r.full_scale_c = cm.q_sat_c - cm.q0_c;
  r.full_scale2_c = cm.q2_full_scale_c;
  r.lsb = static_cast<double>(eval::quant_step(ev.config.levels_out, ev.config.clamp_out[0], ev.config.clamp_out[1]));
  const tile::TileResult t1 = compare_held_lines(o, ev, s1, cm, r);
  if (o.ode) compare_passive_lines(o, ev, s1, cm, r);
  check_thresholds("fitted", r.charge_error_pct_fs_fitted, r.within_1lsb_fitted, r);
  if (o.ode) check_thresholds("ode", r.charge_error_pct_fs_ode, r.within_1lsb_ode, r);
  check_converter_fired(t1, cm, r);
  add_failure_notes(cm, ev.config.projection_degree, r);
  r.passed = std::all_of(r.failures.begin(), r.failures.end(), is_note);
  return r;
}

std::string brief(const SpiceCheckResult& r, const std::string& cell_name) {
  const bool ode = !r.q_ode_c.empty();
  auto human = [](double x, const char* unit) { return gaincell::format_human(x, unit, 3, true); };
  std::string s = printf_string("%s %zux%zu seed %llu: stage-1 charge error max %.3f %% of %s (fitted)", cell_name.c_str(),
                                r.keys, r.dims, static_cast<unsigned long long>(r.seed), r.charge_error_pct_fs_fitted,
                                human(r.full_scale_c, "C").c_str());
  if (ode) s += printf_string(", %.3f %% (ode vs passive line)", r.charge_error_pct_fs_ode);
  s += printf_string("; stage-2 %.3f %% of %s; 5-bit outputs within 1 LSB: %.1f %% fitted", r.charge2_error_pct_fs_fitted,
                     human(r.full_scale2_c, "C").c_str(), 100.0 * r.within_1lsb_fitted);
  if (ode) s += printf_string(", %.1f %% ode", 100.0 * r.within_1lsb_ode);
  s += printf_string(" (exact %.1f %%); SPICE %s: %s\n", 100.0 * r.exact_fitted, human(r.spice_wall_s, "s").c_str(),
                     r.passed ? "PASS" : "FAIL");
  for (const auto& why : r.failures) s += "  " + std::string(is_note(why) ? "" : "FAIL") + " " + why + "\n";
  return s;
}

nlohmann::json spice_check_json(const std::vector<SpiceCheckResult>& results, const tile::TileSpec& tile,
                                const EvalConfig& config) {
  nlohmann::json tiles = nlohmann::json::array();
  bool passed = !results.empty();
  for (const auto& r : results) {
    passed = passed && r.passed;
    nlohmann::json t{{"tokens", r.keys},
                     {"dims", r.dims},
                     {"seed", r.seed},
                     {"q", r.q},
                     {"k_v", r.k_v},
                     {"v_v", r.v_v},
                     {"q_spice_c", r.q_spice_c},
                     {"q_fitted_c", r.q_fitted_c},
                     {"full_scale_c", r.full_scale_c},
                     {"q2_spice_c", r.q2_spice_c},
                     {"q2_fitted_c", r.q2_fitted_c},
                     {"full_scale2_c", r.full_scale2_c},
                     {"out_spice", r.out_spice},
                     {"out_fitted", r.out_fitted},
                     {"lsb", r.lsb},
                     {"charge_error_pct_fs", {{"fitted", r.charge_error_pct_fs_fitted}}},
                     {"charge2_error_pct_fs", {{"fitted", r.charge2_error_pct_fs_fitted}}},
                     {"within_1lsb_share", {{"fitted", r.within_1lsb_fitted}}},
                     {"exact_share", {{"fitted", r.exact_fitted}}},
                     {"spice_wall_s", r.spice_wall_s},
                     {"passed", r.passed},
                     {"failures", r.failures}};
    if (!r.q_ode_c.empty()) {
      t["q_ode_c"] = r.q_ode_c;
      t["q_spice_passive_c"] = r.q_spice_passive_c;
      t["q2_spice_passive_c"] = r.q2_spice_passive_c;
      t["out_ode"] = r.out_ode;
      t["out_spice_passive"] = r.out_spice_passive;
      t["charge_error_pct_fs"]["ode"] = r.charge_error_pct_fs_ode;
      t["within_1lsb_share"]["ode"] = r.within_1lsb_ode;
      t["exact_share"]["ode"] = r.exact_ode;
    }
    tiles.push_back(t);
  }
  const SpiceCheckThresholds th = results.empty() ? SpiceCheckThresholds{} : results.front().thresholds;
  nlohmann::json cell{{"name", tile.cell_name},
                      {"subckt", tile.cell.name},
                      {"file", tile.cell.file.string()},
                      {"converter", tile.converter.file.string()},
                      {"sign_scheme", cell::to_string(config.sign_scheme)},
                      {"offset_v", config.offset_v},
                      {"line_v", config.line_level_v()}};
  if (!tile.card.empty()) cell["card"] = tile.card.string();
  return nlohmann::json{
      {"format", "gaincell-spice-check/1"},
      {"cell", cell},
      {"compared",
       {{"fitted", "evaluator fitted mode vs the tile with every line held at line_v by the card's converter (integrator)"},
        {"ode", "evaluator ODE mode vs the tile with passive lines (c_line_f, precharged to line_v, then floating)"}}},
      {"c_line_f", config.c_line_f},
      {"thresholds", {{"max_charge_error_pct_fs", th.max_charge_error_pct_fs}, {"min_within_1lsb_share", th.min_within_1lsb}}},
      {"passed", passed},
      {"gaincell_version", build_info().version + " (" + build_info().git_sha + ")"},
      {"tiles", tiles}};
}

}  // namespace gaincell::check
