// SPDX-License-Identifier: MIT
// gaincell lm-eval: flags onto lm::TinyLm, lm::evaluate and lm::calibrate
// (docs/calibration.md, "The language model").
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

#include "commands.h"
#include "config_flags.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/eval/calibrate.h"
#include "gaincell/lm/tiny_lm.h"

namespace gaincell::cli {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct LmEvalFlags {
  ConfigFlags config;
  std::string model = "data/tinylm/linear.h5", baseline, text, calib_text, scalers, save_scalers, output,
              reference = "linear";
  bool softmax = false, calibrate = false, table = false;
  std::size_t sequences = 0, calib_sequences = 16;
};

struct Row {
  std::string model, attention, calibration;  // scalers: "trained", "config", "initial", "adapted", "given", "-"
  lm::LmScore score;
  json extra = json::object();
};

json row_json(const Row& r) {
  json j = {{"model", r.model},
            {"attention", r.attention},
            {"scalers", r.calibration},
            {"loss_nats_per_token", r.score.loss_nats},
            {"perplexity", r.score.perplexity()},
            {"tokens", r.score.tokens},
            {"seconds", r.score.seconds},
            {"tokens_per_second", static_cast<double>(r.score.tokens) / std::max(r.score.seconds, 1e-9)}};
  j.update(r.extra);
  return j;
}

void print_row(const Row& r) {
  std::printf("%-8s %-22s %-9s %10.4f %12.3f %8zu %8.1f\n", r.model.c_str(), r.attention.c_str(), r.calibration.c_str(),
              r.score.loss_nats, r.score.perplexity(), r.score.tokens, r.score.seconds);
  std::fflush(stdout);
}

// A file beside the model (data/tinylm/heldout.txt), unless given.
fs::path beside(const fs::path& model, const std::string& given, const char* name) {
  return given.empty() ? model.parent_path() / name : fs::path(given);
}

struct Runner {
  const LmEvalFlags& f;
  bool quiet;
  std::vector<int> ids, calib;
  std::size_t sequences = 0, calib_sequences = 0;  // as used
  std::vector<Row> rows;
  bool all_converged = true;

  lm::LmProgress progress(const std::string& what) const {
    if (quiet) return {};
    return [what](std::size_t done, std::size_t total) {
      std::fprintf(stderr, "\rlm-eval: %-40s %zu/%zu sequences", what.c_str(), done, total);
      if (done == total) std::fprintf(stderr, "\n");
    };
  }

  Row& score(const lm::TinyLm& m, const lm::Attention& a, const std::string& scalers) {
    Row r{m.trained_attention(), a.label, scalers, {}, json::object()};
    r.score = lm::evaluate(m, a, ids, sequences, progress(r.model + " model, " + a.label + " (" + scalers + ")"));
    if (!a.softmax) r.extra["config"] = eval::to_json(a.config);
    print_row(r);
    rows.push_back(r);
    return rows.back();
  }

  // The configuration with the model's own scalers, at the authors' starting
  // point (a = 1, b = 0 everywhere) and after their adaptation.
  void before_after(const lm::TinyLm& m, lm::Attention a, const eval::EvalConfig& reference) {
    score(m, a, a.config_scalers || m.trained_scalers().empty() ? "config" : "trained");
    lm::Attention start = a;
    start.scalers.assign(static_cast<std::size_t>(m.shape().n_layer), lm::LayerScalers{});  // a = 1, b = 0
    score(m, start, "initial");
    lm::Attention ref = lm::evaluator_attention(reference, f.reference);
    const eval::ScalerStats targets = lm::record_targets(m, ref, calib, calib_sequences);
    const std::size_t H = static_cast<std::size_t>(m.shape().n_head);
    const eval::CalibrationProgress prog = [this, &a, H](int it, double alpha, const eval::WorstError& w) {
      if (quiet || (it % 10 != 0 && w.error > 1e-4)) return;
      std::fprintf(stderr, "lm-eval: adapting %s: iteration %3d  alpha %.3f  largest error %.3g (%s, layer %zu head %zu %s)\n",
                   a.label.c_str(), it, alpha, w.error, eval::kScalerNames[static_cast<int>(w.scaler)], w.head / H,
                   w.head % H, w.is_std ? "std" : "mean");
    };
    const eval::CalibrationResult cal = lm::calibrate(m, a, calib, targets, calib_sequences, {}, prog);
    if (!f.save_scalers.empty()) write_text_file(f.save_scalers, lm::lm_scalers_json(m, a, cal).dump(1) + "\n");
    a.scalers = lm::layer_scalers(m, cal);
    Row& r = score(m, a, "adapted");
    r.extra.update({{"converged", cal.converged}, {"iterations", cal.iterations}, {"summary", cal.summary()}});
    std::printf("         adaptation: %s\n", cal.summary().c_str());
    if (!cal.converged) {
      all_converged = false;
      std::fprintf(stderr, "warning: adaptation of %s: %s\n", a.label.c_str(), cal.summary().c_str());
    }
  }
};

// Refuses option combinations that would silently drop one of them.
void check_options(const LmEvalFlags& f, bool has_config) {
  auto refuse = [](const std::string& what) {
    throw InputError("GC-1744", "lm-eval: " + what, "see gaincell lm-eval --help and docs/cli.md#gaincell-lm-eval");
  };
  if (f.softmax && (has_config || f.calibrate || f.table || !f.scalers.empty())) {
    refuse("--softmax (ideal attention) takes no evaluator configuration, --calibrate, --table or --scalers");
  }
  if (!f.scalers.empty() && (f.calibrate || f.table)) refuse("--scalers (given scalers) with --calibrate or --table");
  if (!f.save_scalers.empty() && (!f.calibrate || f.table)) {
    refuse("--save-scalers needs --calibrate, and one configuration (not --table)");
  }
  for (const std::string& out : {f.output, f.save_scalers}) {
    const fs::path dir = fs::path(out).parent_path();
    std::error_code ec;
    if (!out.empty() && !dir.empty() && !fs::is_directory(dir, ec)) {
      throw IoError("lm-eval: cannot write " + out + ": the directory " + dir.string() + " does not exist");
    }
  }
}

// True when the configuration's own scalers are given (a config file or
// --set with a scaler key): they then replace the model's trained ones.
bool sets_scalers(const ConfigFlags& c) {
  for (const auto& s : c.sets) {
    if (s.rfind("scaler_", 0) == 0) return true;
  }
  if (c.config.empty()) return false;
  const json j = json::parse(read_text_file(c.config), nullptr, false);
  if (!j.is_object()) return false;
  for (const auto& [k, v] : j.items()) {
    if (k.rfind("scaler_", 0) == 0) return true;
  }
  return false;
}

// The text's tokens; at least one block, named by file (GC-1741).
std::vector<int> read_tokens(const lm::TinyLm& m, const fs::path& file, const char* role, std::size_t* unknown) {
  const std::vector<int> ids = m.encode(read_text_file(file), unknown, file.string());
  const auto need = static_cast<std::size_t>(m.shape().block) + 1;
  if (ids.size() < need) {
    throw InputError("GC-1741", std::string(role) + " " + file.string() + " has " + std::to_string(ids.size()) +
                                    " tokens; the model needs at least " + std::to_string(need) + " (one block of " +
                                    std::to_string(m.shape().block) + " and its next token)");
  }
  return ids;
}

// Blocks used of `ids`: all, or the first `asked` (a warning when fewer exist).
std::size_t blocks(const lm::TinyLm& m, const std::vector<int>& ids, std::size_t asked, const char* option, bool quiet) {
  const std::size_t have = (ids.size() - 1) / static_cast<std::size_t>(m.shape().block);
  if (asked == 0) return have;
  if (asked > have && !quiet) {
    std::fprintf(stderr, "warning: %s %zu: the text has %zu blocks; all %zu are used\n", option, asked, have, have);
  }
  return std::min(asked, have);
}

// A label naming what computes the attention: the card, or the preset (the
// fitted presets on the shipped default cell's fits), and "+ settings" for
// a config file or --set beyond a card's own fitted models.
std::string label(const ConfigFlags& c, const std::optional<cell::CellCard>& card) {
  std::string l = card ? card->name : c.preset;
  if (!card && (c.preset == "fitted" || c.preset == "ode")) l += " (default cell)";
  // A card's fitted models (cell_model, c2p_model) are what the card needs, not extra settings.
  const bool extra = !c.config.empty() || std::any_of(c.sets.begin(), c.sets.end(), [&](const std::string& s) {
                       return !card || (s.rfind("cell_model=", 0) != 0 && s.rfind("c2p_model=", 0) != 0);
                     });
  if (extra) l += " + settings";
  return l;
}

int run_lm_eval(const LmEvalFlags& f, const GlobalOptions& global) {
  const bool has_config = !f.config.card.empty() || !f.config.config.empty() || !f.config.sets.empty() ||
                          f.config.preset != "reference";
  check_options(f, has_config);
  const fs::path model_path = find_data_file(f.model);
  const lm::TinyLm model = lm::TinyLm::load(model_path);
  const fs::path text = beside(model_path, f.text, "heldout.txt");
  if (f.text.empty() && sha256_file(text) != model.meta().value("heldout_sha256", "")) {
    throw InputError("GC-1745", text.string() + " is not the held-out text " + model_path.string() +
                                    " was scored on (its SHA-256 differs from the model's heldout_sha256)",
                     "give the text to score with --text");
  }
  Runner run{f, global.quiet, {}, {}, 0, 0, {}, true};
  std::size_t unknown = 0;
  run.ids = read_tokens(model, text, "the text", &unknown);
  run.sequences = blocks(model, run.ids, f.sequences, "--sequences", global.quiet);
  const bool adapting = f.calibrate || f.table;
  const fs::path calib = beside(model_path, f.calib_text, "calib.txt");
  if (adapting) {
    run.calib = read_tokens(model, calib, "the calibration text", nullptr);
    run.calib_sequences = blocks(model, run.calib, f.calib_sequences, "--calib-sequences", global.quiet);
  }
  const eval::EvalConfig reference = adapting ? eval::resolve_config(f.reference, "", {}) : eval::EvalConfig{};
  std::optional<lm::TinyLm> base;
  fs::path base_path;
  if (f.table) {
    base_path = beside(model_path, f.baseline, "softmax.h5");
    base = lm::TinyLm::load(base_path);
    if (base->meta().value("vocab", "") != model.meta().value("vocab", "") || base->shape().block != model.shape().block) {
      throw InputError("GC-1745", base_path.string() + " does not share " + model_path.string() +
                                      "'s vocabulary and block: it cannot score the same tokens");
    }
  }
  const auto card = load_card_option(f.config.card);
  std::optional<lm::Attention> configured;
  if (!f.softmax && (!f.table || has_config)) {
    configured = lm::evaluator_attention(resolve(f.config, card, global.quiet), label(f.config, card));
    configured->config_scalers = sets_scalers(f.config);
  }
  if (!global.quiet) {
    std::fprintf(stderr, "lm-eval: %s (%s attention, %d layers x %d heads); text %s: %zu tokens (%zu unknown), %zu blocks\n",
                 model_path.c_str(), model.trained_attention().c_str(), model.shape().n_layer, model.shape().n_head,
                 text.c_str(), run.ids.size(), unknown, run.sequences);
  }
  std::printf("%-8s %-22s %-9s %10s %12s %8s %8s\n", "model", "attention", "scalers", "CE[nats]", "perplexity",
              "tokens", "time[s]");
  if (f.table) {
    run.score(*base, lm::softmax_attention(), "-");
    run.score(model, lm::evaluator_attention(eval::preset("linear"), "linear"), "trained");
    run.before_after(model, lm::evaluator_attention(eval::preset("reference"), "reference cubic"), reference);
    if (configured) run.before_after(model, *configured, reference);
  } else if (f.softmax) {
    run.score(model, lm::softmax_attention(), "-");
  } else if (!f.scalers.empty()) {
    configured->scalers = lm::read_lm_scalers_file(f.scalers, model);
    run.score(model, *configured, "given");
  } else if (f.calibrate) {
    run.before_after(model, *configured, reference);
  } else {
    run.score(model, *configured, configured->config_scalers || model.trained_scalers().empty() ? "config" : "trained");
  }
  if (!f.output.empty()) {
    json rows = json::array();
    for (const Row& r : run.rows) rows.push_back(row_json(r));
    json out = {{"format", "gaincell-lm-eval"},
                {"version", 1},
                {"model", {{"path", model_path.string()}, {"sha256", model.sha256()}}},
                {"text", {{"path", text.string()}, {"sha256", sha256_file(text)}, {"tokens", run.ids.size()},
                          {"unknown", unknown}, {"blocks", run.sequences}}},
                {"rows", std::move(rows)}};
    if (base) out["baseline"] = {{"path", base_path.string()}, {"sha256", base->sha256()}};
    if (adapting) {
      out["adaptation"] = {{"reference", f.reference}, {"calib_text", calib.string()},
                           {"calib_sha256", sha256_file(calib)}, {"calib_blocks", run.calib_sequences}};
    }
    write_text_file(f.output, out.dump(1) + "\n");
  }
  if (!run.all_converged) {
    std::fprintf(stderr, "warning: an adaptation did not converge (its row says so)\n");
    return static_cast<int>(ExitCode::kPointsFailed);
  }
  return 0;
}

}  // namespace

Action add_lm_eval(CLI::App& app, const GlobalOptions& global) {
  auto f = std::make_shared<LmEvalFlags>();
  CLI::App* cmd = app.add_subcommand(
      "lm-eval", "The shipped tiny language model with its attention on the evaluator: cross-entropy and perplexity");
  cmd->add_option("--model", f->model, "A gaincell-tinylm/1 HDF5 file")->capture_default_str();
  cmd->add_option("--text", f->text, "UTF-8 text to score (default: heldout.txt beside the model)");
  cmd->add_option("--sequences", f->sequences, "Score only the first N blocks of the text (default: all)")
      ->check(within(0, 1e9));
  cmd->add_flag("--softmax", f->softmax, "Ideal softmax attention instead of the evaluator");
  cmd->add_option("--preset", f->config.preset, "Evaluator preset: reference | reference_2024 | linear | fitted | ode")
      ->capture_default_str();
  add_config_options(cmd, f->config, "Cell card over the preset (give its fitted models with --config or --set)",
                     "JSON evaluator configuration over the preset", "key=value override, repeatable");
  cmd->add_option("--scalers", f->scalers, "Per-layer scalers file (gaincell-lm-scalers/1, from --save-scalers)");
  cmd->add_flag("--calibrate", f->calibrate, "Also adapt the scalers (the authors' loop) and score again");
  cmd->add_option("--reference", f->reference, "Preset whose statistics are the adaptation's targets")
      ->capture_default_str();
  cmd->add_option("--calib-text", f->calib_text, "Calibration text (default: calib.txt beside the model)");
  cmd->add_option("--calib-sequences", f->calib_sequences, "Blocks of the calibration text per measurement")
      ->capture_default_str()
      ->check(within(1, 256));  // run as one batch
  cmd->add_option("--save-scalers", f->save_scalers, "Write the adapted scalers (gaincell-lm-scalers/1)");
  cmd->add_flag("--table", f->table,
                "The paper's rows: softmax model (ideal), linear model on linear, on the reference cubic before and "
                "after adaptation, and on the given configuration (--card/--preset/--set) before and after");
  cmd->add_option("--baseline", f->baseline, "The softmax model for --table (default: softmax.h5 beside --model)");
  cmd->add_option("-o,--output", f->output, "Write the rows as JSON (gaincell-lm-eval/1)");
  return [f, &global]() { return run_lm_eval(*f, global); };
}

}  // namespace gaincell::cli
