// SPDX-License-Identifier: MIT
#include <cstdio>
#include <memory>
#include <sstream>

#include "commands.h"
#include "gaincell/core/error.h"
#include "gaincell/fit/describe.h"
#include "gaincell/fit/export.h"
#include "gaincell/fit/fit_model.h"
#include "gaincell/core/si_value.h"

namespace gaincell::cli {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// -i and --where as a FitRequest: --where AXIS=VALUE, VALUE with SPICE suffixes.
fit::FitRequest fit_request(const std::string& inputs, const std::string& output, const std::vector<std::string>& where) {
  fit::FitRequest req;
  req.inputs = split_list(inputs);
  req.output = output;
  for (const auto& w : where) {
    const auto eq = w.find('=');
    if (eq == std::string::npos) {
      throw InputError("GC-1611", "--where " + w + ": expected AXIS=VALUE");
    }
    req.where[w.substr(0, eq)] = gaincell::parse_si(w.substr(eq + 1));
  }
  return req;
}

}  // namespace

Action add_fit(CLI::App& app, const GlobalOptions& global) {
  struct Flags {
    std::string data, measure, kind = "poly", inputs, output;
    std::vector<std::string> where;
    fit::FitModelOptions options;
    bool error_out_of_range = false;
  };
  auto f = std::make_shared<Flags>();
  fit::FitModelOptions& o = f->options;
  CLI::App* cmd = app.add_subcommand("fit", "Fit a behavioural model to a results file (or CSV) and write it as JSON");
  cmd->add_option("data", f->data,
                  "Results file (HDF5 from gaincell sweep), any HDF5 whose dataset has dimension scales, or CSV with a "
                  "name[unit] header")
      ->required();
  cmd->add_option("-m,--measure", f->measure, "Measure (or CSV column) to model")->required();
  cmd->add_option("--model", f->kind, "paper-poly | poly | exp-decay | hardsigmoid | lut")->capture_default_str();
  cmd->add_option("--interpolation", o.interpolation, "lut: linear | cubic")->capture_default_str();
  cmd->add_option("-i,--inputs", f->inputs,
                  "Comma-separated inputs: axes or per-point measures (paper-poly: pulse width, stored voltage[, vin]; "
                  "exp-decay of a trace: <measure>_time_s)")
      ->required();
  cmd->add_option("--where", f->where, "Keep points where AXIS=VALUE (repeatable)");
  cmd->add_option("-o,--output", f->output, "Model file (JSON)")->required();
  cmd->add_option("--degree", o.degree, "poly: total degree (0..5)")->capture_default_str()->check(within(0, 5));
  cmd->add_option("--offset", o.offset_v, "paper-poly: stored-voltage offset, V")->capture_default_str();
  cmd->add_option("--vin", o.vin_v, "paper-poly: read word line voltage of the data, V")->capture_default_str();
  cmd->add_option("--v-inf", o.v_inf_v, "exp-decay: the asymptote, V, fixed (e.g. 0 for a leak to ground; default: fitted)");
  cmd->add_option("--cv-folds", o.fit.cv_folds, "k of the k-fold cross-validation (0: none)")
      ->capture_default_str()
      ->check(within(0, 1000));
  cmd->add_flag("--error-out-of-range", f->error_out_of_range,
                "Evaluating outside the fitted range is an error (default: clamp with a warning)");
  return [f, &global]() {
    const fit::FitRequest req = fit_request(f->inputs, f->measure, f->where);
    fit::DataReport report;
    const fit::FitData data = fit::load_fit_data(f->data, req, &report);
    f->options.out_of_range = f->error_out_of_range ? fit::OutOfRange::kError : fit::OutOfRange::kClamp;
    fit::Model model = fit::fit_model(f->kind, data, f->options);
    fit::record_provenance(model, f->data, report);
    fit::save_model_file(f->output, model);
    if (!global.quiet) std::printf("%s", fit::describe(model).c_str());
    std::printf("model: %s\n", f->output.c_str());
    return 0;
  };
}

Action add_model(CLI::App& app, const GlobalOptions&) {
  CLI::App* cmd = app.add_subcommand("model", "Inspect a model file");
  auto path = std::make_shared<std::string>();
  CLI::App* show = cmd->add_subcommand("show", "Print a model readably: inputs and ranges, coefficients, fit quality");
  show->add_option("model", *path, "Model file (JSON)")->required();
  cmd->require_subcommand(1);
  return [path]() {
    std::printf("%s", fit::describe(fit::load_model_file(*path)).c_str());
    return 0;
  };
}

Action add_export(CLI::App& app, const GlobalOptions&) {
  CLI::App* cmd = app.add_subcommand("export", "Export a model file for other tools (json, csv, reference, xspice, verilog-a)");
  struct Flags {
    std::string model, format = "csv", dir;
    fit::ExportOptions options;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("model", f->model, "Model file (JSON)")->required();
  cmd->add_option("--format", f->format, "json | csv | reference | xspice | verilog-a")->capture_default_str();
  cmd->add_option("--t-max", f->options.t_max_s, "reference: pulse width of Q = 1, s")->capture_default_str();
  cmd->add_option("--q-sat", f->options.q_sat_c, "reference: converter saturation charge, C (S = s_sat there)")
      ->capture_default_str();
  cmd->add_option("--s-sat", f->options.s_sat, "reference: S_sat of the reference simulator")->capture_default_str();
  cmd->add_option("-o,--output", f->dir, "Output directory")->required();
  cmd->add_option("--grid", f->options.grid_points,
                  "csv, xspice, verilog-a: grid points per input, evenly spaced (default: a lut's own grid, exact at its "
                  "measured points; other models 16)")
      ->check(within(0, 100000));
  cmd->add_option("--stem", f->options.stem, "File name without extension (default: the model file's)");
  return [f]() {
    for (const auto& p : fit::export_model_file(f->model, f->format, f->dir, f->options)) {
      std::printf("wrote %s\n", p.string().c_str());
    }
    return 0;
  };
}

}  // namespace gaincell::cli
