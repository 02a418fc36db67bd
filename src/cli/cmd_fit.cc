// SPDX-License-Identifier: MIT
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "commands.h"
#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/fit/data_source.h"
#include "gaincell/fit/export.h"
#include "gaincell/fit/model_file.h"
#include "gaincell/netlist/si_value.h"

namespace gaincell::cli {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string human(double v, const std::string& unit) { return netlist::format_human(v, unit, 4, true); }

// A readable account of a model: kind, inputs and ranges, coefficients, quality, provenance.
std::string describe(const fit::Model& model) {
  const nlohmann::json j = fit::to_json(model);
  const fit::ModelInfo& info = fit::info_of(model);
  std::ostringstream out;
  out << "model: " << fit::kind_name(model) << " (" << fit::kModelFormat << ")\n";
  out << "output: " << info.output.name << " [" << info.output.unit << "], observed " << human(info.output.min, info.output.unit)
      << " .. " << human(info.output.max, info.output.unit) << "\n";
  for (const auto& in : info.inputs) {
    out << "input:  " << in.name << " [" << in.unit << "], valid " << human(in.min, in.unit) << " .. "
        << human(in.max, in.unit) << "\n";
  }
  out << "outside the valid range: " << (info.out_of_range == fit::OutOfRange::kClamp ? "clamp with a warning" : "error")
      << "\n";
  auto list = [&](const char* key, const char* title) {
    if (!j.contains(key) || !j[key].is_array() || j[key].empty()) return;
    out << title << ":\n";
    for (const auto& c : j[key]) out << "  " << c.at("name").get<std::string>() << " = " << c.at("value").dump() << "\n";
  };
  if (const auto* lut = std::get_if<fit::LutModel>(&model)) {
    // A table is its data: say its shape, not every value (the model file holds them).
    out << "table: ";
    for (std::size_t d = 0; d < lut->grids().size(); ++d) {
      const auto& g = lut->grids()[d];
      out << (d ? " x " : "") << g.size() << " " << info.inputs[d].name << " (" << human(g.front(), info.inputs[d].unit) << " .. "
          << human(g.back(), info.inputs[d].unit) << ")";
    }
    out << " = " << lut->values().size() << " values, "
        << (lut->interpolation() == fit::LutModel::Interpolation::kCubic ? "cubic" : "linear") << " between them\n";
  } else {
    list("coefficients", "coefficients");
  }
  list("collapsed_at_vin", "determined combinations a_i = sum_j C_ij vin^j (per unit of the pulse-width input)");
  if (j.contains("parameters") && !j["parameters"].empty() && !std::holds_alternative<fit::LutModel>(model)) {
    out << "parameters: " << j["parameters"].dump() << "\n";
  }
  if (j.contains("rank")) {
    out << "rank: " << j["rank"].at("rank").dump() << " of " << j["rank"].at("unknowns").dump() << " unknowns\n";
  }
  if (j.contains("note")) out << "note: " << j["note"].get<std::string>() << "\n";
  const auto& q = info.quality;
  out << "fit quality: " << q.points_used << " points used, " << q.points_excluded << " excluded; RMS residual "
      << human(q.rms_residual, info.output.unit) << ", max |residual| " << human(q.max_abs_residual, info.output.unit)
      << ", R^2 " << q.r_squared;
  if (q.cv_folds > 0) out << ", " << q.cv_folds << "-fold CV RMS " << human(q.cv_rms_residual, info.output.unit);
  out << "\n";
  if (!info.provenance.empty()) out << "provenance: " << info.provenance.dump() << "\n";
  return out.str();
}

}  // namespace

Action add_fit(CLI::App& app, const GlobalOptions& global) {
  struct Flags {
    std::string data;
    std::string measure;
    std::string kind = "poly";
    std::string inputs;
    std::vector<std::string> where;
    std::string output;
    int degree = 3;
    double offset_v = 0.45;
    double vin_v = 0.9;
    int cv_folds = 5;
    bool error_out_of_range = false;
    std::string interpolation = "linear";
    std::optional<double> v_inf_v;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("fit", "Fit a behavioural model to a results file (or CSV) and write it as JSON");
  cmd->add_option("data", f->data,
                  "Results file (HDF5 from gaincell sweep), any HDF5 whose dataset has dimension scales, or CSV with a "
                  "name[unit] header")
      ->required();
  cmd->add_option("-m,--measure", f->measure, "Measure (or CSV column) to model")->required();
  cmd->add_option("--model", f->kind, "paper-poly | poly | exp-decay | hardsigmoid | lut")->capture_default_str();
  cmd->add_option("--interpolation", f->interpolation, "lut: linear | cubic")->capture_default_str();
  cmd->add_option("-i,--inputs", f->inputs,
                  "Comma-separated inputs: axes or per-point measures (paper-poly: pulse width, stored voltage[, vin]; "
                  "exp-decay of a trace: <measure>_time_s)")
      ->required();
  cmd->add_option("--where", f->where, "Keep points where AXIS=VALUE (repeatable)");
  cmd->add_option("-o,--output", f->output, "Model file (JSON)")->required();
  cmd->add_option("--degree", f->degree, "poly: total degree (0..5)")->capture_default_str()->check(within(0, 5));
  cmd->add_option("--offset", f->offset_v, "paper-poly: stored-voltage offset, V")->capture_default_str();
  cmd->add_option("--vin", f->vin_v, "paper-poly: read word line voltage of the data, V")->capture_default_str();
  cmd->add_option("--v-inf", f->v_inf_v, "exp-decay: the asymptote, V, fixed (e.g. 0 for a leak to ground; default: fitted)");
  cmd->add_option("--cv-folds", f->cv_folds, "k of the k-fold cross-validation (0: none)")
      ->capture_default_str()
      ->check(within(0, 1000));
  cmd->add_flag("--error-out-of-range", f->error_out_of_range,
                "Evaluating outside the fitted range is an error (default: clamp with a warning)");
  return [f, &global]() {
    fit::FitRequest req;
    req.inputs = split_list(f->inputs);
    req.output = f->measure;
    for (const auto& w : f->where) {
      const auto eq = w.find('=');
      if (eq == std::string::npos) {
        throw InputError("GC-1611", "error GC-1611: --where " + w + ": expected AXIS=VALUE");
      }
      req.where[w.substr(0, eq)] = netlist::parse_si(w.substr(eq + 1));
    }
    fit::DataReport report;
    const bool csv = std::filesystem::path(f->data).extension() == ".csv";
    const fit::FitData data = csv ? fit::load_csv_data(f->data, req, &report) : fit::load_hdf5_data(f->data, req, &report);
    fit::FitOptions options;
    options.cv_folds = f->cv_folds;
    fit::Model model;
    if (f->kind == "paper-poly") {
      fit::PaperPolyModel::Options o;
      o.offset_v = f->offset_v;
      o.vin_v = f->vin_v;
      o.fit = options;
      o.fit.allow_rank_deficient = true;  // one vin: 4 of 10 combinations, reported
      model = fit::PaperPolyModel::fit(data, o);
    } else if (f->kind == "poly") {
      fit::PolyModel::Options o;
      o.degree = f->degree;
      o.fit = options;
      model = fit::PolyModel::fit(data, o);
    } else if (f->kind == "exp-decay") {
      fit::ExpDecayModel::Options o;
      o.fit = options;
      if (f->v_inf_v) o.v_inf_v = *f->v_inf_v;
      model = fit::ExpDecayModel::fit(data, o);
    } else if (f->kind == "hardsigmoid") {
      fit::HardSigmoidModel::Options o;
      o.fit = options;
      model = fit::HardSigmoidModel::fit(data, o);
    } else if (f->kind == "lut") {
      if (f->interpolation != "linear" && f->interpolation != "cubic") {
        throw InputError("GC-1611", "error GC-1611: --interpolation " + f->interpolation + ": expected linear or cubic");
      }
      fit::LutModel::Options o;
      o.interpolation = f->interpolation == "cubic" ? fit::LutModel::Interpolation::kCubic
                                                    : fit::LutModel::Interpolation::kLinear;
      model = fit::LutModel::fit(data, o);
    } else {
      throw InputError("GC-1611",
                       "error GC-1611: --model " + f->kind + ": expected paper-poly, poly, exp-decay, hardsigmoid or lut");
    }
    fit::ModelInfo& info = fit::info_of(model);
    info.out_of_range = f->error_out_of_range ? fit::OutOfRange::kError : fit::OutOfRange::kClamp;
    info.provenance["source_file"] = f->data;
    info.provenance["source_sha256"] = report.source_sha256;
    info.provenance["points_failed_in_source"] = report.points_failed;
    info.provenance["points_filtered"] = report.points_filtered;
    for (const auto& [k, v] : report.provenance) info.provenance[k] = v;
    info.provenance["fitted_by"] = "gaincell " + build_info().version + " (" + build_info().git_sha + ")";
    write_text_file(f->output, fit::to_json(model).dump(1) + "\n");
    if (!global.quiet) std::printf("%s", describe(model).c_str());
    std::printf("model: %s\n", f->output.c_str());
    return 0;
  };
}

Action add_model(CLI::App& app, const GlobalOptions&) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("model", "Inspect a model file");
  CLI::App* show = cmd->add_subcommand("show", "Print a model readably: inputs and ranges, coefficients, fit quality");
  show->add_option("model", *path, "Model file (JSON)")->required();
  cmd->require_subcommand(1);
  return [path]() {
    std::printf("%s", describe(fit::load_model_file(*path)).c_str());
    return 0;
  };
}

Action add_export(CLI::App& app, const GlobalOptions&) {
  struct Flags {
    std::string model, format = "csv", dir;
    fit::ExportOptions options;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("export", "Export a model file for other tools (json, csv, reference, xspice, verilog-a)");
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
    const fit::Model model = fit::load_model_file(f->model);
    if (f->options.stem.empty()) f->options.stem = std::filesystem::path(f->model).stem().string();
    for (const auto& p : fit::export_model(model, f->format, f->dir, f->options)) {
      std::printf("wrote %s\n", p.string().c_str());
    }
    return 0;
  };
}

}  // namespace gaincell::cli
