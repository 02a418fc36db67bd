// SPDX-License-Identifier: MIT
// The shipped tiny language model (docs/calibration.md): its recorded
// validation loss reproduced by our forward pass (softmax, and the linear
// gain-cell attention on the evaluator), the whole-model adaptation, and the
// errors on bad files.
#include <catch2/catch.hpp>

#include <hdf5.h>

#include <cmath>
#include <fstream>
#include <functional>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/eval/config.h"
#include "gaincell/lm/tiny_lm.h"
#include "store/h5.h"
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
  write_text_file(bad, "{\"format\": \"gaincell-lm-scalers\", \"version\": 1, \"model\": {\"sha256\": \"" +
                           m.sha256() + "\"},\n \"layers\": [1]}\n");
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
      {"linear", "reference cubic", "initial"}, {"linear", "reference cubic", "adapted"}, {"linear", "fitted (default cell)", "trained"},
      {"linear", "fitted (default cell)", "initial"}, {"linear", "fitted (default cell)", "adapted"}};
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
  CHECK(j.at("text").at("blocks") == 4);
  CHECK(j.at("adaptation").at("calib_blocks") == 16);  // --calib-sequences default
  // Options that would silently drop one another are refused before any work.
  for (const char* opts : {"--softmax --preset fitted", "--softmax --table", "--save-scalers s.json",
                           "--calibrate --scalers s.json", "--table --calibrate --save-scalers s.json"}) {
    const CommandResult bad = run_command(exe + " lm-eval " + opts + " 2>&1", dir.path());
    INFO(opts << ": " << bad.output);
    CHECK(bad.exit_code == 3);
    CHECK_THAT(bad.output, Catch::Contains("GC-1744") && !Catch::Contains("CE[nats]"));
  }
  // Scalers from a configuration replace the model's trained ones, and the row says so.
  write_text_file(dir.path() / "sc.json", "{\"scaler_out\": {\"a\": 0.001, \"b\": 0}}\n");
  const CommandResult trained = run_command(exe + " -q lm-eval --preset linear --sequences 4", dir.path());
  const CommandResult cfg = run_command(exe + " -q lm-eval --preset linear -c sc.json --sequences 4", dir.path());
  CHECK_THAT(trained.output, Catch::Contains("linear                 trained"));
  CHECK_THAT(cfg.output, Catch::Contains("linear + settings      config"));
  CHECK(cfg.output.substr(cfg.output.find("config")) != trained.output.substr(trained.output.find("trained")));
  // A text that is not UTF-8, and one too short: the file and the place.
  write_text_file(dir.path() / "bad.txt", std::string(300, 'a') + "\xC0\xAF" + std::string(10, 'b'));
  const CommandResult utf = run_command(exe + " lm-eval --text bad.txt 2>&1", dir.path());
  CHECK(utf.exit_code == 3);
  CHECK_THAT(utf.output, Catch::Contains("GC-1746") && Catch::Contains("bad.txt: byte 300") && Catch::Contains("overlong"));
  write_text_file(dir.path() / "ten.txt", "ten chars.");
  const CommandResult shortt = run_command(exe + " lm-eval --text ten.txt 2>&1", dir.path());
  CHECK_THAT(shortt.output, Catch::Contains("GC-1741") && Catch::Contains("ten.txt has 10 tokens"));
  // A model beside another held-out text: refused, not scored silently.
  fs::create_directories(dir.path() / "alt");
  fs::copy_file(shipped("linear.h5"), dir.path() / "alt" / "linear.h5");
  write_text_file(dir.path() / "alt" / "heldout.txt", read_text_file(shipped("calib.txt")));
  const CommandResult alt = run_command(exe + " lm-eval --model alt/linear.h5 2>&1", dir.path());
  CHECK(alt.exit_code == 3);
  CHECK_THAT(alt.output, Catch::Contains("GC-1745") && Catch::Contains("--text"));
}

TEST_CASE("a model file's meta and weights are checked", "[unit][lm]") {
  TempDir dir;
  auto variant = [&](const std::string& name, const std::function<void(hid_t)>& edit) {
    const fs::path f = dir.path() / name;
    fs::copy_file(shipped("linear.h5"), f);
    const hid_t h = H5Fopen(f.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    edit(h);
    H5Fclose(h);
    return f;
  };
  auto set_meta = [](hid_t h, const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json meta = nlohmann::json::parse(h5::read_string_attribute(h, "meta"));
    change(meta);
    H5Adelete(h, "meta");
    h5::write_string_attribute(h, "meta", meta.dump());
  };
  const fs::path unk = variant("unk.h5", [&](hid_t h) { set_meta(h, [](nlohmann::json& m) { m["unk"] = 100000000; }); });
  CHECK_THROWS_WITH(lm::TinyLm::load(unk), Catch::Contains("GC-1740") && Catch::Contains("\"unk\" must be a token id"));
  const fs::path ver = variant("ver.h5", [&](hid_t h) { set_meta(h, [](nlohmann::json& m) { m["version"] = "1"; }); });
  CHECK_THROWS_WITH(lm::TinyLm::load(ver), Catch::Contains("GC-1740") && Catch::Contains("\"version\""));
  const fs::path eps = variant("eps.h5", [&](hid_t h) { set_meta(h, [](nlohmann::json& m) { m["layernorm_eps"] = -1; }); });
  CHECK_THROWS_WITH(lm::TinyLm::load(eps), Catch::Contains("GC-1740") && Catch::Contains("layernorm_eps"));
  const fs::path nan = variant("nan.h5", [](hid_t h) {
    const hid_t ds = H5Dopen2(h, "blocks.0.c_attn.weight", H5P_DEFAULT);
    std::vector<float> v(288 * 96);
    H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    v[5] = NAN;
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Dclose(ds);
  });
  CHECK_THROWS_WITH(lm::TinyLm::load(nan), Catch::Contains("GC-1740") && Catch::Contains("blocks.0.c_attn.weight") &&
                                               Catch::Contains("non-finite value at flat index 5"));
  // A scalers file adapted for another model file.
  const lm::TinyLm m = lm::TinyLm::load(shipped("linear.h5"));
  const fs::path other = dir.path() / "other.json";
  write_text_file(other, "{\"format\": \"gaincell-lm-scalers\", \"version\": 1, \"model\": {\"sha256\": \"abc\"}, \"layers\": []}");
  CHECK_THROWS_WITH(lm::read_lm_scalers_file(other, m), Catch::Contains("GC-1743") && Catch::Contains("another model file"));
}
