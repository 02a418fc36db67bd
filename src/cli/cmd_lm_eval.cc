// SPDX-License-Identifier: MIT
// gaincell lm-eval: flags onto lm::TinyLm, lm::evaluate and lm::calibrate
// (docs/calibration.md, "The language model").
#include <cmath>
#include <cstdio>
#include <memory>

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
  std::vector<Row> rows;
  bool all_converged = true;

  lm::LmProgress progress(const std::string& what) const {
    if (quiet) return {};
    return [what](std::size_t done, std::size_t total) {
      std::fprintf(stderr, "\rlm-eval: %-40s %zu/%zu sequences", what.c_str(), done, total);
      if (done == total) std::fprintf(stderr, "\n");
    };
  }

  Row score(const lm::TinyLm& m, const lm::Attention& a, const std::string& scalers) {
    Row r{m.trained_attention(), a.label, scalers, {}, json::object()};
    r.score = lm::evaluate(m, a, ids, f.sequences, progress(r.model + " model, " + a.label + " (" + scalers + ")"));
    print_row(r);
    rows.push_back(r);
    return r;
  }

  // The configuration with the model's own scalers, at the authors' starting
  // point (a = 1, b = 0 everywhere) and after their adaptation.
  void before_after(const lm::TinyLm& m, lm::Attention a) {
    score(m, a, m.trained_scalers().empty() ? "config" : "trained");
    lm::Attention start = a;
    start.scalers.assign(static_cast<std::size_t>(m.shape().n_layer), lm::LayerScalers{});  // a = 1, b = 0
    score(m, start, "initial");
    const lm::Attention ref = lm::evaluator_attention(eval::resolve_config(f.reference, "", {}), f.reference);
    const eval::ScalerStats targets = lm::record_targets(m, ref, calib, f.calib_sequences);
    const eval::CalibrationProgress prog = [this, &a](int it, double alpha, const eval::WorstError& w) {
      if (quiet || (it % 10 != 0 && w.error > 1e-4)) return;
      std::fprintf(stderr, "lm-eval: calibrating %s: iteration %3d  alpha %.3f  largest error %.3g (%s head %zu %s)\n",
                   a.label.c_str(), it, alpha, w.error, eval::kScalerNames[static_cast<int>(w.scaler)], w.head,
                   w.is_std ? "std" : "mean");
    };
    const eval::CalibrationResult cal = lm::calibrate(m, a, calib, targets, f.calib_sequences, {}, prog);
    if (!cal.converged) {
      all_converged = false;
      std::fprintf(stderr, "warning: adaptation of %s: %s\n", a.label.c_str(), cal.summary().c_str());
    }
    if (!f.save_scalers.empty()) write_text_file(f.save_scalers, lm::lm_scalers_json(m, a, cal).dump(1) + "\n");
    a.scalers = lm::layer_scalers(m, cal);
    Row r = score(m, a, "adapted");
    rows.back().extra = {{"converged", cal.converged}, {"iterations", cal.iterations}, {"summary", cal.summary()}};
  }
};

int run_lm_eval(const LmEvalFlags& f, const GlobalOptions& global) {
  const fs::path model_path = find_data_file(f.model);
  const lm::TinyLm model = lm::TinyLm::load(model_path);
  const fs::path text = beside(model_path, f.text, "heldout.txt");
  Runner run{f, global.quiet, {}, {}, {}, true};
  std::size_t unknown = 0;
  run.ids = model.encode(read_text_file(text), &unknown);
  if (!global.quiet) {
    std::fprintf(stderr, "lm-eval: %s (%s attention, %d layers x %d heads); text %s: %zu tokens (%zu unknown)\n",
                 model_path.c_str(), model.trained_attention().c_str(), model.shape().n_layer, model.shape().n_head,
                 text.c_str(), run.ids.size(), unknown);
  }
  if (f.calibrate || f.table) run.calib = model.encode(read_text_file(beside(model_path, f.calib_text, "calib.txt")));
  const bool has_config = !f.config.card.empty() || !f.config.config.empty() || !f.config.sets.empty() ||
                          f.config.preset != "reference";
  if (f.softmax && (has_config || f.calibrate)) {
    throw InputError("GC-1744", "lm-eval: --softmax (ideal attention) takes no evaluator configuration and no --calibrate");
  }
  std::printf("%-8s %-22s %-9s %10s %12s %8s %8s\n", "model", "attention", "scalers", "CE[nats]", "perplexity",
              "tokens", "time[s]");
  if (f.table) {
    const lm::TinyLm base = lm::TinyLm::load(beside(model_path, f.baseline, "softmax.h5"));
    run.score(base, lm::softmax_attention(), "-");
    run.score(model, lm::evaluator_attention(eval::preset("linear"), "linear"), "trained");
    run.before_after(model, lm::evaluator_attention(eval::preset("reference"), "reference cubic"));
    if (has_config) {
      const auto card = load_card_option(f.config.card);
      run.before_after(model, lm::evaluator_attention(resolve(f.config, card, global.quiet),
                                                      card ? card->name : f.config.preset));
    }
  } else if (f.softmax) {
    run.score(model, lm::softmax_attention(), "-");
  } else {
    const auto card = load_card_option(f.config.card);
    lm::Attention a = lm::evaluator_attention(resolve(f.config, card, global.quiet),
                                              card ? card->name : f.config.preset);
    if (!f.scalers.empty()) {
      a.scalers = lm::read_lm_scalers_file(f.scalers, model);
      run.score(model, a, "given");
    } else if (f.calibrate) {
      run.before_after(model, a);
    } else {
      run.score(model, a, model.trained_scalers().empty() ? "config" : "trained");
    }
  }
  if (!f.output.empty()) {
    json rows = json::array();
    for (const Row& r : run.rows) rows.push_back(row_json(r));
    const json out = {{"format", "gaincell-lm-eval"},
                      {"version", 1},
                      {"model", {{"path", model_path.string()}, {"sha256", model.sha256()}}},
                      {"text", {{"path", text.string()}, {"sha256", sha256_file(text)}}},
                      {"reference", f.reference},
                      {"calib_sequences", f.calib_sequences},
                      {"rows", std::move(rows)}};
    write_text_file(f.output, out.dump(1) + "\n");
  }
  if (!run.all_converged) {
    std::fprintf(stderr, "warning: an adaptation did not converge (rows marked in the output)\n");
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
      ->check(within(1, 4096));
  cmd->add_option("--save-scalers", f->save_scalers, "Write the adapted scalers (gaincell-lm-scalers/1)");
  cmd->add_flag("--table", f->table,
                "The paper's rows: softmax model (ideal), linear model on linear, on the reference cubic before and "
                "after adaptation, and on the given configuration (--card/--preset/--set) before and after");
  cmd->add_option("--baseline", f->baseline, "The softmax model for --table (default: softmax.h5 beside --model)");
  cmd->add_option("-o,--output", f->output, "Write the rows as JSON (gaincell-lm-eval/1)");
  return [f, &global]() { return run_lm_eval(*f, global); };
}

}  // namespace gaincell::cli
