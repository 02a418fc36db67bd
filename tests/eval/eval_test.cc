// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/eval/config.h"
#include "gaincell/eval/energy.h"
#include "gaincell/eval/evaluator.h"
#include "gaincell/eval/io.h"
#include "gaincell/eval/numerics.h"
#include "test_support.h"

using namespace gaincell;
using namespace gaincell::eval;
using namespace gaincell::testing;

namespace {

double f_poly(const CellMapping& c, double w) {
  double y = 0;
  for (std::size_t i = c.a.size(); i-- > 0;) y = y * (w - c.offset_v) + c.a[i];
  return y;
}

Tensor random_tensor(std::vector<std::size_t> shape, std::mt19937& rng, float lo, float hi) {
  Tensor t{std::move(shape), {}};
  std::uniform_real_distribution<float> u(lo, hi);
  t.data.resize(t.size());
  for (auto& x : t.data) x = u(rng);
  return t;
}

}  // namespace

TEST_CASE("reference cell: the collapsed polynomial and its values", "[unit][eval]") {
  const CellMapping c = make_cell_mapping(preset("reference"));
  REQUIRE(c.a.size() == 4);
  CHECK(c.a[0] == Approx(0.52136362).margin(1e-7));
  CHECK(c.a[1] == Approx(13.61226063).margin(1e-7));
  CHECK(c.a[2] == Approx(-2.62044562).margin(1e-7));
  CHECK(c.a[3] == Approx(46.05483778).margin(1e-7));
  CHECK(f_poly(c, 0.0) == Approx(-10.3315).margin(5e-5));
  CHECK(f_poly(c, 0.45) == Approx(0.5214).margin(5e-5));
  CHECK(f_poly(c, 0.9) == Approx(10.3130).margin(5e-5));
  const CellMapping lin = make_cell_mapping(preset("linear"));
  CHECK(lin.a == std::vector<double>{0.0, 19.3});
}

TEST_CASE("quantizers: float32, round half to even, grid anchored at 0", "[unit][eval]") {
  // K and V: 8 levels on [0, 0.9] are j * 0.9 / 7; 0.45 lands on 3 steps.
  for (int j = 0; j < 8; ++j) {
    CHECK(quantize(static_cast<float>(j * 0.9 / 7), 8, 0.0, 0.9) == Approx(j * 0.9 / 7).margin(1e-7));
  }
  CHECK(quantize(0.45f, 8, 0.0, 0.9) == Approx(0.385714).margin(1e-6));
  // Output: 32 levels on [-1, 1]; the clamp value 1.0 maps to 16 * 2/31.
  CHECK(quantize(1.0f, 32, -1.0, 1.0) == Approx(16.0 * 2.0 / 31.0).margin(1e-6));
  CHECK(quantize(-1.0f, 32, -1.0, 1.0) == Approx(-16.0 * 2.0 / 31.0).margin(1e-6));
  std::set<float> levels;
  for (int i = 0; i <= 200000; ++i) levels.insert(quantize(static_cast<float>(-1.0 + 2.0 * i / 200000.0), 32, -1.0, 1.0));
  CHECK(levels.size() == 33);
  // Ties go to even: 2 levels on [0, 1] (step 1).
  CHECK(quantize(0.5f, 2, 0.0, 1.0) == 0.0f);
  CHECK(quantize(1.5f, 2, 0.0, 1.0) == 2.0f);
  CHECK(quantize(2.5f, 2, 0.0, 1.0) == 2.0f);
  // Q: 16 levels on [0, 1]: float32(1/15) is a little above 1/15, so 0.5 is
  // just under 7.5 steps and goes to 7 (as in torch), not to 8.
  CHECK(quantize(0.5f, 16, 0.0, 1.0) == Approx(7.0 / 15.0).margin(1e-7));
  CHECK(quantize(0.3f, 0, 0.0, 1.0) == 0.3f);  // off
}

TEST_CASE("bfloat16 rounding is to nearest, ties to even", "[unit][eval]") {
  CHECK(bf16_round(1.0f) == 1.0f);
  CHECK(bf16_round(1.0f + std::ldexp(1.0f, -8)) == 1.0f);                                   // tie -> even
  CHECK(bf16_round(1.0f + 3 * std::ldexp(1.0f, -8)) == 1.0f + std::ldexp(1.0f, -6));      // tie -> even (up)
  CHECK(bf16_round(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)) == 1.0f + std::ldexp(1.0f, -7));
  CHECK(decay_at(1.6e-4, 0) == 1.0f);
  CHECK(decay_at(1.6e-4, 1000) == Approx(std::exp(-0.16)).epsilon(1e-5));
}

TEST_CASE("masks, whole sequence equals decode, 3-D inputs", "[unit][eval]") {
  std::mt19937 rng(7);
  const std::size_t B = 2, H = 3, T = 150, D = 64;
  // Inputs past every clamp: Q in [-0.2, 1.2], K/V before the 0.45 offset in [-0.6, 0.6].
  const Tensor q = random_tensor({B, H, T, D}, rng, -0.2f, 1.2f);
  const Tensor k = random_tensor({B, H, T, D}, rng, -0.6f, 0.6f);
  const Tensor v = random_tensor({B, H, T, D}, rng, -0.6f, 0.6f);
  for (int window : {100, 1024}) {
    for (const char* p : {"reference", "reference_2024", "linear"}) {
      EvalConfig c = preset(p);
      c.window = window;
      c.decay_per_token = 2e-3;  // visible within 150 tokens
      Evaluator ev(c);
      const EvalResult whole = ev.forward(q, k, v, true);
      const EvalResult dec = ev.forward_decode(q, k, v);
      INFO(p << " window " << window);
      CHECK(whole.output.data == dec.output.data);
      // S and phi exactly 0 outside the causal window, phi in [0, 1].
      std::size_t outside_nonzero = 0, inside = 0, phi_range = 0;
      for (std::size_t bh = 0; bh < B * H; ++bh) {
        for (std::size_t t = 0; t < T; ++t) {
          for (std::size_t s = 0; s < T; ++s) {
            const float S = whole.S.data[(bh * T + t) * T + s], phi = whole.phi.data[(bh * T + t) * T + s];
            const bool in = s <= t && t - s < static_cast<std::size_t>(window);
            if (!in && (S != 0.0f || phi != 0.0f)) ++outside_nonzero;
            if (in) ++inside;
            if (phi < 0.0f || phi > 1.0f) ++phi_range;
          }
        }
      }
      CHECK(outside_nonzero == 0);
      CHECK(phi_range == 0);
      CHECK(inside > 0);
      // Outputs on the 33-level grid, summed over ceil(min(t+1, W)/64)-ish tiles.
      const float step = quant_step(32, -1.0, 1.0);
      std::size_t off_grid = 0;
      for (float y : whole.output.data) off_grid += std::abs(y / step - std::nearbyint(y / step)) > 1e-3 ? 1 : 0;
      CHECK(off_grid == 0);
    }
  }
  // 3-D input: one head, same numbers as a [B, 1, T, D] input.
  Tensor q3 = q, k3 = k, v3 = v;
  for (Tensor* t : {&q3, &k3, &v3}) {
    t->shape = {B * H, T, D};
  }
  Tensor q4 = q3, k4 = k3, v4 = v3;
  for (Tensor* t : {&q4, &k4, &v4}) t->shape = {B * H, 1, T, D};
  Evaluator ev(preset("reference"));
  const EvalResult r3 = ev.forward(q3, k3, v3, false), r4 = ev.forward(q4, k4, v4, false);
  CHECK(r3.output.shape == std::vector<std::size_t>{B * H, T, D});
  CHECK(r3.output.data == r4.output.data);
}

TEST_CASE("the linear cell without quantization or decay is 19.3 q.(k - 0.45)", "[unit][eval]") {
  std::mt19937 rng(3);
  const std::size_t T = 70, D = 24;  // D not a multiple of 16, T not of 64
  const Tensor q = random_tensor({1, T, D}, rng, 0.0f, 1.0f);
  const Tensor k = random_tensor({1, T, D}, rng, -0.45f, 0.45f);
  const Tensor v = random_tensor({1, T, D}, rng, -0.45f, 0.45f);
  EvalConfig c = preset("linear");
  for (const char* s : {"levels_q=off", "levels_kv=off", "levels_out=off", "decay_per_token=0", "tile_keys=16"}) apply_setting(c, s);
  c.clamp_out = {-1e9, 1e9};
  Evaluator ev(c);
  const EvalResult r = ev.forward(q, k, v, true);
  double worst = 0;
  for (std::size_t t = 0; t < T; ++t) {
    for (std::size_t s = 0; s <= t; ++s) {
      double dot = 0;
      for (std::size_t d = 0; d < D; ++d) dot += static_cast<double>(q.data[t * D + d]) * (static_cast<double>(k.data[s * D + d]));
      worst = std::max(worst, std::abs(r.S.data[t * T + s] - 19.3 * dot));
    }
  }
  CHECK(worst < 1e-4);
  // Output: sum over 16-key tiles of 19.3 sum_s phi (v - 0.45) / 40.
  double worst_out = 0;
  for (std::size_t t = 0; t < T; ++t) {
    for (std::size_t d = 0; d < D; ++d) {
      double a = 0;
      for (std::size_t s = 0; s <= t; ++s) a += r.phi.data[t * T + s] * 19.3 * static_cast<double>(v.data[s * D + d]);
      worst_out = std::max(worst_out, std::abs(r.output.data[t * D + d] - a / 40.0));
    }
  }
  CHECK(worst_out < 1e-4);
}

TEST_CASE("configuration: files, --set, and errors that say where", "[unit][eval]") {
  TempDir dir;
  EvalConfig c = preset("reference");
  apply_setting(c, "scaler_k.b=0.4");
  apply_setting(c, "levels_out=off");
  apply_setting(c, "decay_rule=global");
  CHECK(c.scaler_k.b == std::vector<double>{0.4});
  CHECK(c.levels_out == 0);
  CHECK(c.decay_rule == DecayRule::kGlobal);
  write_file(dir / "bad.json", "{\n  \"window\": 128,\n  \"windw\": 3\n}\n");
  try {
    apply_config_file(c, dir / "bad.json");
    FAIL("unknown key accepted");
  } catch (const InputError& e) {
    CHECK(e.id() == "GC-1702");
    CHECK_THAT(e.what(), Catch::Contains("bad.json:3:") && Catch::Contains("windw"));
  }
  write_file(dir / "levels.json", "{\"levels_q\": 1}");
  CHECK_THROWS_WITH(apply_config_file(c, dir / "levels.json"), Catch::Contains("GC-1703") && Catch::Contains("levels"));
  CHECK_THROWS_WITH(apply_setting(c, "window"), Catch::Contains("GC-1705"));
  CHECK_THROWS_WITH(apply_setting(c, "window=abc"), Catch::Contains("GC-1703"));
  CHECK_THROWS_WITH(preset("nope"), Catch::Contains("GC-1701"));
  // Per-head scalers must match the heads; inputs must be finite.
  EvalConfig h = preset("reference");
  apply_setting(h, "scaler_q.a=[1, 2]");
  std::mt19937 rng(1);
  const Tensor x = random_tensor({1, 3, 8, 16}, rng, 0.0f, 1.0f);
  CHECK_THROWS_WITH(Evaluator(h).forward(x, x, x, false), Catch::Contains("GC-1709"));
  Tensor bad = x;
  bad.data[5] = std::nanf("");
  CHECK_THROWS_WITH(Evaluator(preset("reference")).forward(bad, x, x, false), Catch::Contains("GC-1708"));
  // A configuration survives its JSON round trip.
  EvalConfig back = preset("reference");
  apply_config_json(back, to_json(c), "roundtrip");
  CHECK(to_json(back) == to_json(c));
}

TEST_CASE("configuration keys: one table reads, writes and documents them", "[unit][eval]") {
  std::vector<std::string> names;
  for (const ConfigKeyInfo& k : config_keys()) names.push_back(k.name);
  REQUIRE(names.size() == 30);
  CHECK(names.front() == "preset");
  // Every key is written (the model paths when set) and read back unchanged.
  const EvalConfig fitted = preset("fitted");
  std::vector<std::string> written;
  const nlohmann::json fitted_json = to_json(fitted);
  for (const auto& [key, value] : fitted_json.items()) written.push_back(key);
  CHECK(std::set<std::string>(written.begin(), written.end()) == std::set<std::string>(names.begin(), names.end()));
  for (const std::string& name : preset_names()) {
    INFO(name);
    const EvalConfig c = preset(name);
    EvalConfig back = preset("reference");
    apply_config_json(back, to_json(c), "roundtrip");
    CHECK(to_json(back) == to_json(c));
  }
  // The unknown-key hint lists the table.
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  EvalConfig c = preset("reference");
  CHECK_THROWS_WITH(apply_setting(c, "windw=3"),
                    "--set windw=3: error GC-1702: /windw: unknown key \"windw\"\n  hint: known keys: " + list);
  // docs/evaluator.md lists every key (but preset, applied first) with the table's unit.
  std::ifstream doc(source_dir() / "docs" / "evaluator.md");
  std::stringstream text;
  text << doc.rdbuf();
  for (const ConfigKeyInfo& k : config_keys()) {
    if (k.name == "preset") continue;
    INFO(k.name);
    const std::string row = "\n| `" + k.name + "` | ";
    const auto at = text.str().find(row);
    REQUIRE(at != std::string::npos);
    const std::string line = text.str().substr(at + 1, text.str().find('\n', at + 1) - at - 1);
    // | key | reference | unit | meaning |
    std::vector<std::string> cells;
    std::stringstream cols(line);
    for (std::string col; std::getline(cols, col, '|');) cells.push_back(col);
    REQUIRE(cells.size() >= 4);
    CHECK(cells[3] == " " + k.unit + (k.unit.empty() ? "" : " "));
  }
}

TEST_CASE("validate: a configuration built in code meets each key's own checks", "[unit][eval]") {
  EvalConfig c = preset("reference");
  c.tile_keys = 5000;  // more than the kernel's sub-array buffer
  CHECK_THROWS_WITH(validate(c), "evaluator configuration: error GC-1703: /tile_keys: expected an integer in [1, 4096]; found 5000");
  c = preset("reference");
  c.s_sat = -80;
  CHECK_THROWS_WITH(validate(c), "evaluator configuration: error GC-1703: /s_sat: expected a number > 0; found -80.0");
  c = preset("reference");
  c.decay_per_token = std::nan("");
  CHECK_THROWS_WITH(Evaluator(c), Catch::Contains("GC-1703") && Catch::Contains("/decay_per_token: expected a finite number >= 0"));
  c = preset("reference");
  c.clamp_out = {1.0, -1.0};
  CHECK_THROWS_WITH(validate(c), Catch::Contains("GC-1703") && Catch::Contains("/clamp_out: expected [low, high] with low < high"));
  // The checks between keys come first, with their own messages (unchanged).
  c = preset("reference");
  c.vin_v = 0;
  CHECK_THROWS_WITH(validate(c), "error GC-1703: evaluator configuration: vin_v must be > 0 and offset_v finite");
  // Every preset passes; the line level is written resolved and passes too.
  for (const std::string& name : preset_names()) CHECK_NOTHROW(validate(preset(name)));
}

TEST_CASE("resolve_config: preset, card, file, settings, then the card's models and validate", "[unit][eval]") {
  TempDir dir;
  // Models without the hashes of what their netlists read: a note each.
  const EvalConfig fitted = preset("fitted");
  for (const auto& [from, to] : {std::pair{fitted.cell_model, dir / "cell.json"}, std::pair{fitted.c2p_model, dir / "c2p.json"}}) {
    std::ifstream in(from);
    nlohmann::json j = nlohmann::json::parse(in);
    j["provenance"].erase("include_sha256");
    write_file(to, j.dump());
  }
  write_file(dir / "config.json", "{\"window\": 77, \"c2p_model\": \"c2p.json\"}");
  const cell::CellCard card = cell::load_card(find_data_file("netlists/cells/gc3t.cell.json"));
  std::vector<std::string> notes;
  const EvalConfig c = resolve_config("fitted", dir / "config.json", {"cell_model=" + (dir / "cell.json").string(), "window=78"},
                                      &card, [&](const std::string& n) { notes.push_back(n); });
  EvalConfig manual = preset("fitted");
  apply_card(manual, card);
  apply_config_file(manual, dir / "config.json");
  apply_setting(manual, "cell_model=" + (dir / "cell.json").string());
  apply_setting(manual, "window=78");
  CHECK(to_json(c) == to_json(manual));
  CHECK(c.window == 78);
  CHECK(c.offset_v == card.offset_v);
  REQUIRE(notes.size() == 2);
  CHECK_THAT(notes[0], Catch::StartsWith("cell_model ") && Catch::Contains("records no hashes"));
  CHECK_THAT(notes[1], Catch::StartsWith("c2p_model ") && Catch::Contains("cannot check it belongs to " + card.name));
  // A card clears the preset's models (the default cell's): they must be given.
  CHECK_THROWS_WITH(resolve_config("fitted", "", {}, &card), Catch::StartsWith("error GC-1703: evaluator configuration: cell " + card.name + " needs cell_model"));
  // The default cell's own models describe another circuit than this card's.
  CHECK_THROWS_WITH(resolve_config("fitted", "", {"cell_model=" + fitted.cell_model.string(), "c2p_model=" + fitted.c2p_model.string()}, &card),
                    Catch::Contains("GC-1716"));
  // Without a card: no check, validated all the same.
  CHECK(to_json(resolve_config("reference", "", {"levels_out=off"})) == to_json([] {
          EvalConfig r = preset("reference");
          r.levels_out = 0;
          return r;
        }()));
  CHECK_THROWS_WITH(resolve_config("reference", "", {"sign_scheme=differential"}), Catch::Contains("describes a physical cell"));
}

TEST_CASE("the stage-2 readout: clamp to the output range, then the ADC", "[unit][eval]") {
  const OutputAdc adc = output_adc(32, -1.0, 1.0);
  CHECK(adc.step == quant_step(32, -1.0, 1.0));
  CHECK(adc(5.0f) == quantize(1.0f, 32, -1.0, 1.0));     // clamped to 1, which lands on 16 * 2/31
  CHECK(adc(-5.0f) == quantize(-1.0f, 32, -1.0, 1.0));
  CHECK(adc(0.3f) == quantize(0.3f, 32, -1.0, 1.0));
  CHECK(std::isnan(adc(std::nanf(""))));                // as torch.clamp and round: NaN stays NaN
  const OutputAdc off = output_adc(0, -1.0, 1.0);        // levels_out = off: the clamp stays
  CHECK(off(0.3f) == 0.3f);
  CHECK(off(5.0f) == 1.0f);
  CHECK(off(-5.0f) == -1.0f);
  CHECK(clamp_f(-0.0f, 0.0f, 1.0f) == 0.0f);
  CHECK(std::signbit(clamp_f(-0.0f, 0.0f, 1.0f)));      // as x < lo ? lo : x
}

TEST_CASE("fitted mode: units derived from the C2P fit, projection error small", "[unit][eval]") {
  const EvalConfig c = preset("fitted");
  const CellMapping m = make_cell_mapping(c);
  REQUIRE(m.physical);
  CHECK(m.q_unit_c * c.s_sat == Approx(m.q_sat_c - m.q0_c));
  CHECK(m.q2_full_scale_c == Approx(c.stage2_scale * m.q_unit_c));
  CHECK(m.t_max_s == Approx(15e-9).epsilon(1e-3));
  CHECK(m.projection_max_error_a < 0.01 * m.current_full_scale_a);
  // The polynomial in reference units equals the fitted current times t_max / q_unit.
  const ReadCurrentModel cell = load_read_current_model(c.cell_model);
  for (double w : {0.0, 0.2, 0.45, 0.7, 0.9}) {
    CHECK(f_poly(m, w) * m.q_unit_c / m.t_max_s == Approx(cell.evaluate(w, 0.45)).margin(0.01 * m.current_full_scale_a));
  }
  // A wrong model kind is refused with the file named.
  EvalConfig w = c;
  w.c2p_model = c.cell_model;
  CHECK_THROWS_WITH(make_cell_mapping(w), Catch::Contains("GC-1706") && Catch::Contains("read_current"));
}

TEST_CASE("ODE mode with a line held still equals the fitted mode", "[unit][eval]") {
  std::mt19937 rng(5);
  const std::size_t T = 20, D = 16;
  const Tensor q = random_tensor({1, T, D}, rng, 0.0f, 1.0f);
  const Tensor k = random_tensor({1, T, D}, rng, -0.45f, 0.45f);
  const Tensor v = random_tensor({1, T, D}, rng, -0.45f, 0.45f);
  EvalConfig cf = preset("fitted");
  EvalConfig co = preset("ode");
  co.c_line_f = 1.0;  // 1 F: the line cannot move
  const EvalResult rf = Evaluator(cf).forward(q, k, v, true);
  const EvalResult ro = Evaluator(co).forward(q, k, v, true);
  double worst = 0;
  for (std::size_t i = 0; i < rf.S.data.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(rf.S.data[i] - ro.S.data[i])));
  CHECK(worst < 0.01 * cf.s_sat);  // the projection's error, < 1 % of full scale
  // With a small line capacitance the line droops and the charge magnitude drops.
  co.c_line_f = 0.2e-12;
  const EvalResult rs = Evaluator(co).forward(q, k, v, true);
  double sum_f = 0, sum_s = 0;
  for (std::size_t i = 0; i < rf.S.data.size(); ++i) {
    sum_f += std::abs(rf.S.data[i]);
    sum_s += std::abs(rs.S.data[i]);
  }
  CHECK(sum_s < 0.95 * sum_f);
  CHECK_THROWS_WITH(Evaluator(co).start_decode(1, 1, D), Catch::Contains("GC-1710"));
}

TEST_CASE("sign schemes: the fitted cell is the difference the array forms, in fitted and ODE modes alike",
          "[unit][eval]") {
  const EvalConfig signed_cfg = preset("fitted");
  const ReadCurrentModel cell = load_read_current_model(signed_cfg.cell_model);
  const double line = 0.45;
  for (auto scheme : {cell::SignScheme::kReferenceColumn, cell::SignScheme::kDifferential}) {
    INFO(cell::to_string(scheme));
    EvalConfig c = signed_cfg;
    c.sign_scheme = scheme;
    const CellMapping m = make_cell_mapping(c);
    for (double w : {0.0, 0.2, 0.45, 0.7, 0.9}) {
      const double other = scheme == cell::SignScheme::kDifferential ? 0.9 - w : 0.45;
      CHECK(f_poly(m, w) * m.q_unit_c / m.t_max_s ==
            Approx(cell.evaluate(w, line) - cell.evaluate(other, line)).margin(0.01 * m.current_full_scale_a));
    }
    // Zero at the offset; a differential pair is odd around it.
    CHECK(std::abs(f_poly(m, 0.45)) < 1e-3 * std::abs(f_poly(m, 0.9)));
    if (scheme == cell::SignScheme::kDifferential) {
      for (double x : {0.1, 0.3}) CHECK(f_poly(m, 0.45 + x) == Approx(-f_poly(m, 0.45 - x)).margin(1e-3 * std::abs(f_poly(m, 0.9))));
    }
    // ODE mode on a line that cannot move forms the same difference.
    std::mt19937 rng(9);
    const Tensor q = random_tensor({1, 12, 8}, rng, 0.0f, 1.0f);
    const Tensor k = random_tensor({1, 12, 8}, rng, -0.45f, 0.45f);
    EvalConfig co = c;
    co.cell = CellKind::kOde;
    co.c_line_f = 1.0;
    const EvalResult rf = Evaluator(c).forward(q, k, k, true);
    const EvalResult ro = Evaluator(co).forward(q, k, k, true);
    double worst = 0;
    for (std::size_t i = 0; i < rf.S.data.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(rf.S.data[i] - ro.S.data[i])));
    CHECK(worst < 0.01 * c.s_sat);
  }
  // The scheme describes a physical cell.
  EvalConfig bad = preset("reference");
  bad.sign_scheme = cell::SignScheme::kDifferential;
  CHECK_THROWS_WITH(validate(bad), "error GC-1703: evaluator configuration: sign_scheme \"differential\" describes a physical "
                                   "cell: it needs cell fitted or ode");
  // The line level is a key of its own (default: offset_v).
  EvalConfig lv = preset("fitted");
  CHECK(lv.line_level_v() == 0.45);
  apply_setting(lv, "line_v=0.5");
  CHECK(lv.line_level_v() == 0.5);
  CHECK(to_json(lv)["line_v"] == 0.5);
  apply_setting(lv, "sign_scheme=reference_column");
  CHECK(lv.sign_scheme == cell::SignScheme::kReferenceColumn);
  CHECK_THROWS_WITH(apply_setting(lv, "sign_scheme=twos"), Catch::Contains("GC-1703") && Catch::Contains("differential"));
}

TEST_CASE("HDF5 input and output", "[unit][eval]") {
  TempDir dir;
  std::mt19937 rng(2);
  const Tensor q = random_tensor({1, 2, 40, 16}, rng, 0.0f, 1.0f);
  write_tensors(dir / "in.h5", {{"Q", &q}, {"K", &q}, {"V", &q}});
  CHECK(read_tensor(dir / "in.h5", "K").data == q.data);
  CHECK_THROWS_WITH(read_tensor(dir / "in.h5", "X"), Catch::Contains("GC-1711") && Catch::Contains("Q, K, V"));
  const auto r = run_command((bin_dir() / "gaincell").string() + " -q eval -i " + (dir / "in.h5").string() + " -o " +
                             (dir / "out.h5").string() + " --intermediates --set window=16");
  REQUIRE(r.exit_code == 0);
  const Tensor out = read_tensor(dir / "out.h5", "output");
  const Tensor S = read_tensor(dir / "out.h5", "S");
  CHECK(out.shape == q.shape);
  CHECK(S.shape == std::vector<std::size_t>{1, 2, 40, 40});
  EvalConfig c = preset("reference");
  c.window = 16;
  CHECK(Evaluator(c).forward(q, q, q, false).output.data == out.data);
}

TEST_CASE("energy per token per head from characterized energies", "[ngspice][eval]") {
  TempDir dir;
  for (const char* spec : {"pushpull_energy", "c2p_transfer"}) {
    const auto r = run_command((bin_dir() / "gaincell").string() + " -q sweep " +
                               (source_dir() / "characterization" / (std::string(spec) + ".json")).string() + " -o " +
                               (dir / (std::string(spec) + ".h5")).string());
    REQUIRE(r.exit_code == 0);
  }
  EnergyOptions o;
  o.cell_energy_data = dir / "pushpull_energy.h5";
  o.c2p_energy_data = dir / "c2p_transfer.h5";
  const EnergyEstimate e = estimate_energy(o);
  double sum = 0;
  for (const auto& [k, v] : e.components_j) sum += v;
  CHECK(sum == Approx(e.total_j));
  // A read costs more with a longer pulse; the array terms scale with W * D.
  CHECK(e.e_cell_read_full_j > e.e_cell_read_zero_j);
  CHECK(e.e_cell_read_full_j > 1e-15);
  CHECK(e.e_cell_read_full_j < 1e-12);
  CHECK(e.components_j.at("qk_array") ==
        Approx(1024.0 * 64.0 * (e.e_cell_read_zero_j + 0.5 * (e.e_cell_read_full_j - e.e_cell_read_zero_j))));
  CHECK(e.latency_s == Approx(64e-9));
  const nlohmann::json j = energy_json(e);
  CHECK(j["gpu"][0]["paper_speedup"].get<double>() == Approx(344.2).epsilon(1e-3));
  CHECK(j["gpu"][1]["paper_energy_ratio"].get<double>() == Approx(43981).epsilon(1e-3));
  // The wrong file is refused with its name.
  EnergyOptions bad = o;
  bad.cell_energy_data = o.c2p_energy_data;
  CHECK_THROWS_WITH(estimate_energy(bad), Catch::Contains("GC-1714") && Catch::Contains("c2p_transfer.h5"));
}
