// SPDX-License-Identifier: MIT
// gaincell calibrate: flags onto eval::record_stats / read_targets_file,
// eval::calibrate and eval::write_scalers_file (docs/calibration.md).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/eval/calibrate.h"
#include "gaincell/eval/io.h"

namespace gaincell::cli {

namespace {

struct CalibrateFlags {
  std::string input, output, preset = "reference", config, reference = "linear", reference_config, targets,
                             save_targets;
  std::vector<std::string> sets;
  bool from_config = false;
};

int run_calibrate(const CalibrateFlags& f, const GlobalOptions& global) {
  if (f.input.empty() || f.output.empty()) {
    throw InputError("GC-1735", "calibrate: --input (HDF5 with Q, K, V) and -o/--output (the scalers JSON) are required");
  }
  if (!f.targets.empty() && !f.reference_config.empty()) {
    throw InputError("GC-1736", "calibrate: give the targets as --targets FILE or as a reference (--reference, "
                                "--reference-config), not both");
  }
  const eval::EvalConfig config = eval::resolve_config(f.preset, f.config, f.sets);
  const eval::Tensor q = eval::read_tensor(f.input, "Q");
  const eval::Tensor k = eval::read_tensor(f.input, "K");
  const eval::Tensor v = eval::read_tensor(f.input, "V");
  eval::ScalerStats targets;
  if (!f.targets.empty()) {
    targets = eval::read_targets_file(f.targets);
    if (!global.quiet) std::fprintf(stderr, "calibrate: targets from %s (%zu heads)\n", f.targets.c_str(), targets.heads());
  } else {
    targets = eval::record_stats(eval::resolve_config(f.reference, f.reference_config, {}), q, k, v);
    if (!global.quiet) {
      std::fprintf(stderr, "calibrate: targets recorded from preset %s%s%s (%zu heads)\n", f.reference.c_str(),
                   f.reference_config.empty() ? "" : " with ", f.reference_config.c_str(), targets.heads());
    }
  }
  if (!f.save_targets.empty()) write_text_file(f.save_targets, eval::targets_json(targets).dump(2) + "\n");
  const eval::CalibrationProgress progress = [&global](int it, double alpha, const eval::WorstError& w) {
    if (global.quiet) return;
    std::fprintf(stderr, "calibrate: iteration %3d  alpha %.3f  largest error %.3g (%s head %zu %s)\n", it, alpha,
                 w.error, eval::kScalerNames[static_cast<int>(w.scaler)], w.head, w.is_std ? "std" : "mean");
  };
  const eval::CalibrationResult r = eval::calibrate(config, q, k, v, targets, {}, progress, f.from_config);
  eval::write_scalers_file(f.output, r);
  std::printf("calibrate: %s; scalers: %s\n", r.summary().c_str(), f.output.c_str());
  if (!r.converged) {
    std::fprintf(stderr, "warning: calibration did not converge; the scalers of the last iteration were written\n");
    return static_cast<int>(ExitCode::kPointsFailed);
  }
  return 0;
}

}  // namespace

Action add_calibrate(CLI::App& app, const GlobalOptions& global) {
  auto f = std::make_shared<CalibrateFlags>();
  CLI::App* cmd = app.add_subcommand(
      "calibrate", "The authors' adaptation: per-head q, k, v, output scalers matched to a reference's statistics");
  cmd->add_option("-i,--input", f->input, "HDF5 file with datasets Q, K, V [batch, head, token, dim]");
  cmd->add_option("-o,--output", f->output, "Scalers file to write (JSON; gaincell eval --config accepts it)");
  cmd->add_option("--preset", f->preset, "Preset of the model to adapt")->capture_default_str();
  cmd->add_option("-c,--config", f->config, "JSON configuration of the model to adapt, over --preset");
  cmd->add_option("--set", f->sets, "key=value override of the model to adapt, repeatable");
  cmd->add_option("--reference", f->reference, "Preset whose statistics are the targets")->capture_default_str();
  cmd->add_option("--reference-config", f->reference_config, "JSON configuration over --reference");
  cmd->add_option("--targets", f->targets, "Targets file instead of a reference (docs/calibration.md)");
  cmd->add_option("--save-targets", f->save_targets, "Also write the targets used as a targets file");
  cmd->add_flag("--from-config", f->from_config,
                "Start from the configuration's scalers (default: a = 1, b = 0, as the authors)");
  return [f, &global]() { return run_calibrate(*f, global); };
}

}  // namespace gaincell::cli
