// SPDX-License-Identifier: MIT
// The shipped tiny language model (docs/calibration.md): its recorded
// validation loss reproduced by our forward pass (softmax, and the linear
// gain-cell attention on the evaluator), the whole-model adaptation, and the
// errors on bad files.
#include <catch2/catch.hpp>

#include <hdf5.h>

#include <cmath>
#include <fstream>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/eval/config.h"
#include "gaincell/lm/tiny_lm.h"
#include "test_support.h"

using namespace gaincell;
using namespace gaincell::testing;
namespace fs = std::filesystem;

namespace {

fs::path shipped(const char* name) { return fs::path(GAINCELL_SOURCE_DIR) / "data" / "tinylm" / name; }

std::vector<int> heldout(const lm::TinyLm& m) { return m.encode(read_text_file(shipped("heldout.txt"))); }

double recorded_slice(const lm::TinyLm& m) { return m.meta().at("recorded").at("slice_loss_nats").get<double>(); }
std::size_t slice_sequences(const lm::TinyLm& m) {
  return m.meta().at("recorded").at("slice_sequences").get<std::size_t>();
}

}  // namespace

TEST_CASE("the shipped softmax model reproduces its recorded validation loss", "[unit][lm]") {
  const lm::TinyLm m = lm::TinyLm::load(shipped("softmax.h5"));
  // The sizes docs/calibration.md gives.
  const lm::ModelShape& s0 = m.shape();
  CHECK((s0.vocab == 100 && s0.block == 128 && s0.n_layer == 4 && s0.n_head == 4 && s0.n_embd == 96));
  const long C = s0.n_embd;
  CHECK(s0.vocab * C + s0.block * C + s0.n_layer * (12 * C * C + 13 * C) + 2 * C == 469440);
  CHECK((read_text_file(shipped("heldout.txt")).size() - 1) / 128 == 703);
  CHECK(m.trained_attention() == "softmax");
  CHECK(m.trained_scalers().empty());
  const std::vector<int> ids = heldout(m);
  // The held-out text is the one the model was scored on.
  CHECK(sha256_file(shipped("heldout.txt")) == m.meta().at("heldout_sha256").get<std::string>());
  const lm::LmScore s = lm::evaluate(m, lm::softmax_attention(), ids, slice_sequences(m));
  CHECK(s.tokens == m.meta().at("recorded").at("slice_tokens").get<std::size_t>());
  // float32 in another summation order than torch: agreement to 1e-4 nats.
  CHECK(s.loss_nats == Approx(recorded_slice(m)).margin(1e-4));
  CHECK(s.perplexity() == Approx(std::exp(s.loss_nats)));
}

TEST_CASE("the shipped linear model reproduces its recorded loss with the evaluator's linear preset", "[unit][lm]") {
  const lm::TinyLm m = lm::TinyLm::load(shipped("linear.h5"));
  REQUIRE(m.trained_attention() == "linear");
  REQUIRE(m.trained_scalers().size() == static_cast<std::size_t>(m.shape().n_layer));
  const std::vector<int> ids = heldout(m);
  const lm::LmScore lin = lm::evaluate(m, lm::evaluator_attention(eval::preset("linear")), ids, slice_sequences(m));
  // Training computed the same quantized forward pass in torch (measured: 9e-7
  // nats apart); a rounding on the other side of a DAC or ADC step would move
  // the loss a little, not by 1e-4.
  CHECK(lin.loss_nats == Approx(recorded_slice(m)).margin(1e-4));
  // The same model with ideal softmax is a different model: far off.
  const lm::LmScore soft = lm::evaluate(m, lm::softmax_attention(), ids, slice_sequences(m));
  CHECK(std::abs(soft.loss_nats - lin.loss_nats) > 0.05);
}

TEST_CASE("adapting the linear model to the reference cubic lowers its loss", "[unit][lm]") {
  const lm::TinyLm m = lm::TinyLm::load(shipped("linear.h5"));
  const std::vector<int> ids = heldout(m);
  const std::vector<int> calib = m.encode(read_text_file(shipped("calib.txt")));
  const lm::Attention cubic = lm::evaluator_attention(eval::preset("reference"));
  const eval::ScalerStats targets =
      lm::record_targets(m, lm::evaluator_attention(eval::preset("linear")), calib, 16);
  REQUIRE(targets.heads() == static_cast<std::size_t>(m.shape().n_layer * m.shape().n_head));
  // The targets are the linear model's own statistics: k's mean is its trained offset region.
  const eval::CalibrationResult r = lm::calibrate(m, cubic, calib, targets, 16);
  INFO(r.summary());
  CHECK(r.iterations > 0);
  lm::Attention adapted = cubic;
  adapted.scalers = lm::layer_scalers(m, r);
  const lm::LmScore before = lm::evaluate(m, cubic, ids, 64);
  const lm::LmScore after = lm::evaluate(m, adapted, ids, 64);
  CHECK(after.loss_nats < before.loss_nats);

  // The scalers file round-trips and gives the same loss.
  TempDir dir;
  const fs::path file = dir.path() / "scalers.json";
  write_text_file(file, lm::lm_scalers_json(m, cubic, r).dump(1));
  lm::Attention again = cubic;
  again.scalers = lm::read_lm_scalers_file(file, m);
  CHECK(lm::evaluate(m, again, ids, 64).loss_nats == after.loss_nats);
}

TEST_CASE("tiny LM errors name the file and what was expected", "[unit][lm]") {
  TempDir dir;
  const lm::TinyLm m = lm::TinyLm::load(shipped("linear.h5"));
  // Another HDF5 file.
  {
    const fs::path f = dir.path() / "other.h5";
    const hid_t h = H5Fcreate(f.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(h);
    CHECK_THROWS_WITH(lm::TinyLm::load(f), Catch::Contains("GC-1740") && Catch::Contains("other.h5") &&
                                               Catch::Contains("expected \"gaincell-tinylm\""));
  }
  // Too short a text.
  CHECK_THROWS_WITH(lm::evaluate(m, lm::softmax_attention(), m.encode("only a few words")),
                    Catch::Contains("GC-1741") && Catch::Contains("at least 129"));
  // Scalers for the wrong number of layers.
  lm::Attention a = lm::evaluator_attention(eval::preset("reference"));
  a.scalers.resize(1);
  CHECK_THROWS_WITH(lm::evaluate(m, a, heldout(m), 1), Catch::Contains("GC-1742") && Catch::Contains("layers"));
  // A scalers file with a short list: file, line and pointer.
  const fs::path bad = dir.path() / "bad.json";
  write_text_file(bad, "{\"format\": \"gaincell-lm-scalers\", \"version\": 1,\n \"layers\": [1]}\n");
  CHECK_THROWS_WITH(lm::read_lm_scalers_file(bad, m),
                    Catch::Contains("GC-1743") && Catch::Contains("bad.json:") && Catch::Contains("/layers"));
  // Unknown characters are counted, not dropped.
  std::size_t unknown = 0;
  const auto ids = m.encode("a\u263Ab", &unknown);
  CHECK(ids.size() == 3);
  CHECK(unknown == 1);
}

TEST_CASE("gaincell lm-eval prints and writes the paper's rows", "[unit][lm]") {
  TempDir dir;
  const std::string exe = std::string(GAINCELL_BIN_DIR) + "/gaincell";
  const CommandResult r =
      run_command(exe + " lm-eval --table --sequences 4 --preset fitted -o lm.json 2>&1", dir.path());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("CE[nats]") && Catch::Contains("reference cubic") &&
                           Catch::Contains("adapted"));
  const nlohmann::json j = nlohmann::json::parse(read_text_file(dir.path() / "lm.json"));
  CHECK(j.at("format") == "gaincell-lm-eval");
  const auto& rows = j.at("rows");
  REQUIRE(rows.size() == 8);
  const char* expected[8][3] = {
      {"softmax", "softmax", "-"},           {"linear", "linear", "trained"},          {"linear", "reference cubic", "trained"},
      {"linear", "reference cubic", "initial"}, {"linear", "reference cubic", "adapted"}, {"linear", "fitted", "trained"},
      {"linear", "fitted", "initial"},       {"linear", "fitted", "adapted"}};
  for (std::size_t i = 0; i < 8; ++i) {
    CHECK(rows[i].at("model") == expected[i][0]);
    CHECK(rows[i].at("attention") == expected[i][1]);
    CHECK(rows[i].at("scalers") == expected[i][2]);
    CHECK(rows[i].at("tokens") == 512);
    CHECK(rows[i].at("perplexity").get<double>() ==
          Approx(std::exp(rows[i].at("loss_nats_per_token").get<double>())));
  }
  CHECK(rows[4].at("converged") == true);
  CHECK(rows[7].at("converged") == true);
  // --softmax with a configuration is refused.
  const CommandResult bad = run_command(exe + " lm-eval --softmax --preset fitted 2>&1", dir.path());
  CHECK(bad.exit_code == 3);
  CHECK_THAT(bad.output, Catch::Contains("GC-1744"));
}
