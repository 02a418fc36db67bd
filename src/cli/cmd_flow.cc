// SPDX-License-Identifier: MIT
// gaincell flow: from one cell card to attention (the library's flow module,
// docs/flow.md); gaincell report: the page a designer reads; gaincell cell:
// check a card and write what the flow derives from it.
#include <cstdio>
#include <memory>

#include "commands.h"
#include "gaincell/cell/card.h"
#include "gaincell/cell/derive.h"
#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/flow/flow.h"
#include "gaincell/flow/report.h"

namespace gaincell::cli {
namespace {

namespace fs = std::filesystem;

struct FlowFlags {
  std::vector<std::string> inputs;
  std::string out = "out/flow";
  bool reuse = false;
  std::string sample = "data/qkv_sample.h5";
  double max_error_pct = 0.5, min_within_pct = 99.0;
  std::string lm_model = "data/tinylm/linear.h5";
  std::size_t lm_sequences = 64, lm_ode_sequences = 8;
  bool no_lm = false;
};

void add_flow_options(CLI::App* cmd, FlowFlags& f) {
  cmd->add_option("inputs", f.inputs,
                  "[CELL.json] [SPEC...]: the cell card (default: the shipped push-pull cell), then hand-written specs that "
                  "replace derived ones (each takes the role its measures say; it must simulate the card's cell)");
  cmd->add_option("-o,--output", f.out, "Output directory")->capture_default_str();
  cmd->add_flag("--reuse", f.reuse, "Skip stages whose outputs exist and whose inputs and command are unchanged");
  cmd->add_option("--sample", f.sample, "Q/K/V sample for the evaluator (HDF5)")->capture_default_str();
  cmd->add_option("--max-charge-error", f.max_error_pct, "SPICE check threshold: stage-1 charge error, % of full scale")
      ->capture_default_str();
  cmd->add_option("--min-within-1lsb", f.min_within_pct, "SPICE check threshold: % of 5-bit outputs within 1 LSB")
      ->capture_default_str();
  cmd->add_option("--lm-model", f.lm_model, "The tiny language model the flow scores (softmax.h5, heldout.txt, calib.txt beside it)")
      ->capture_default_str();
  cmd->add_option("--lm-sequences", f.lm_sequences, "Blocks of held-out text the language model is scored on (128 tokens each for the shipped model)")
      ->capture_default_str()
      ->check(within(1, 1e6));
  cmd->add_flag("--no-lm", f.no_lm, "Skip the language-model stage");
  cmd->add_option("--lm-ode-sequences", f.lm_ode_sequences,
                  "The same for a precharged line's cell, whose attention runs in ODE mode (about 1.6 s per block here)")
      ->capture_default_str()
      ->check(within(1, 1e6));
}

flow::FlowOptions flow_options(const FlowFlags& f) {
  flow::FlowOptions o{.out = f.out,
                      .reuse = f.reuse,
                      .sample = f.sample,
                      .gaincell = fs::canonical("/proc/self/exe"),
                      .check_max_charge_error_pct = f.max_error_pct,
                      .check_min_within_1lsb_pct = f.min_within_pct,
                      .lm = !f.no_lm,
                      .lm_model = f.lm_model,
                      .lm_sequences = f.lm_sequences,
                      .lm_ode_sequences = f.lm_ode_sequences};
  flow::set_inputs(o, f.inputs);
  return o;
}

// A progress line per stage on stdout: "[ 2/19] sweep multiply.json   ran (0.3 s)".
flow::FlowEvents progress_lines() {
  flow::FlowEvents events;
  events.started = [](std::size_t i, std::size_t n, const flow::Stage& st) {
    std::printf("[%2zu/%zu] %-44s ", i + 1, n, st.what.c_str());
    std::fflush(stdout);
  };
  events.finished = [](std::size_t, const flow::Stage&, const flow::StageOutcome& r) {
    std::printf("%s\n", flow::outcome_text(r).c_str());
    std::fflush(stdout);
  };
  return events;
}

int run_flow(const FlowFlags& f) {
  const flow::FlowOptions o = flow_options(f);
  const flow::FlowPlan plan = flow::plan_flow(o);
  std::printf("flow: %s\n", flow::headline(plan).c_str());
  std::fflush(stdout);
  const flow::FlowResult r = flow::run_flow(plan, o, progress_lines());
  std::printf("flow: %s in %.1f s; report: %s\n",
              r.failures == 0 ? "done" : (std::to_string(r.failures) + " stage(s) failed").c_str(), r.wall_time_s,
              r.report.c_str());
  return r.failures == 0 ? 0 : static_cast<int>(ExitCode::kPointsFailed);
}

int run_cell(const std::string& card_file, const std::string& out) {
  const cell::CellCard c = cell::load_card(find_data_file(card_file));
  std::fputs(cell::describe(c).c_str(), stdout);
  if (!out.empty()) std::fputs(cell::describe(cell::write_derived(c, out)).c_str(), stdout);
  return 0;
}

}  // namespace

Action add_flow(CLI::App& app, const GlobalOptions&) {
  CLI::App* cmd = app.add_subcommand(
      "flow", "From a cell card to attention: sweeps, fits, exports, evaluator, SPICE check, energy, report (docs/flow.md)");
  auto f = std::make_shared<FlowFlags>();
  add_flow_options(cmd, *f);
  return [f]() { return run_flow(*f); };
}

Action add_report(CLI::App& app, const GlobalOptions& global) {
  struct Flags {
    std::string dir, output;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("report", "One self-contained HTML page of a flow directory, with plots (docs/flow.md)");
  cmd->add_option("dir", f->dir, "A gaincell flow output directory")->required();
  cmd->add_option("-o,--output", f->output, "HTML file (default DIR/report.html)");
  return [f, &global]() {
    flow::write_report(f->dir, f->output.empty() ? fs::path(f->dir) / "report.html" : fs::path(f->output), global.quiet);
    return 0;
  };
}

Action add_cell(CLI::App& app, const GlobalOptions&) {
  struct Flags {
    std::string card, out;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("cell", "Check a cell card and show its interface; with -o, write the templates and "
                                             "sweep specs a flow derives from it (docs/cells.md)");
  cmd->add_option("card", f->card, "Cell card (JSON, gaincell-cell/1)")->required();
  cmd->add_option("-o,--output", f->out, "Directory for the derived templates and specs");
  return [f]() { return run_cell(f->card, f->out); };
}

}  // namespace gaincell::cli
