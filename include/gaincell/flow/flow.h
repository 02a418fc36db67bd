// SPDX-License-Identifier: MIT
// File: gaincell/flow/flow.h
//
// The main job (docs/flow.md): from one cell card to what the cell does to an
// attention layer. plan_flow() derives every sweep spec from the card (or
// takes a hand-written one for a role, if it is about the same cell), and
// lays out the stages: sweeps, fits, exports, the evaluator, the SPICE check,
// energy, the report. run_flow() runs them as child processes of the gaincell
// executable, records every command and the SHA-256 of every input and output
// in OUT/flow.json after each stage, skips a failed stage's dependents, and
// with `reuse` skips stages whose command, inputs and build are unchanged.
// Every stage is about the card's cell: nothing falls back to another cell.
//
//   FlowOptions o;
//   o.card = "my.cell.json";
//   o.out = "out/mycell";
//   o.gaincell = "/usr/bin/gaincell";
//   const FlowPlan plan = plan_flow(o);
//   const FlowResult r = run_flow(plan, o, {});
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gaincell/cell/card.h"
#include "gaincell/cell/derive.h"

namespace gaincell::flow {

struct Stage {
  std::string name;                          // "sweep_multiply", "fit_c2p.hardsigmoid", ...
  std::string what;                          // one line for the progress display
  std::vector<std::string> args;             // gaincell arguments (empty: nothing to run, see `error`)
  std::vector<std::filesystem::path> inputs; // absolute; their hashes decide reuse
  std::vector<std::filesystem::path> outputs;  // relative to OUT
  bool points_may_fail = false;              // a sweep: exit 4 means done, failures recorded
  std::string error;                         // a stage that cannot be made for this cell: why
};

struct FlowOptions {
  std::filesystem::path card{};              // "" = the default cell's card
  std::vector<std::filesystem::path> specs{};  // hand-written specs, each replacing the derived one of its role
  std::filesystem::path out = "out/flow";
  bool reuse = false;
  std::filesystem::path sample = "data/qkv_sample.h5";
  std::filesystem::path gaincell;            // the executable the stages run
  std::vector<std::uint64_t> check_seeds{1, 2};
  std::size_t check_keys = 8, check_dims = 8;
  // The SPICE check's pass thresholds (a missed one fails the stage).
  double check_max_charge_error_pct = 0.5;  // stage-1 charge error, % of full scale
  double check_min_within_1lsb_pct = 99.0;  // % of 5-bit outputs within 1 LSB
  // The tiny language model (lm-eval --table): the model file (its softmax
  // baseline, held-out and calibration texts beside it) and the blocks scored.
  bool lm = true;                            // false: no language-model stage (--no-lm)
  std::filesystem::path lm_model = "data/tinylm/linear.h5";
  std::size_t lm_sequences = 64;
  std::size_t lm_ode_sequences = 8;  // a precharged line: ODE mode, about 1.6 s per block on 2 cores
};

struct FlowPlan {
  cell::CellCard card;
  std::filesystem::path out;                 // absolute
  std::filesystem::path sample;              // absolute
  cell::DerivedSet derived;
  std::map<cell::Role, std::filesystem::path> spec_of;  // what each sweep runs
  std::map<cell::Role, bool> given;          // true: a hand-written spec
  std::vector<Stage> stages;
};

// Sorts a command line's inputs into `options`: the first may be a cell card
// (a JSON file of format gaincell-cell/1), the others are hand-written specs
// (paths made absolute). Throws InputError GC-1905 for a second card.
void set_inputs(FlowOptions& options, const std::vector<std::string>& inputs);

// The role a spec takes, from its measures. Throws InputError GC-1901.
cell::Role role_of_spec(const std::filesystem::path& spec);

// Loads the card, writes the derived templates and specs into OUT/derived,
// checks the hand-written specs (GC-1903: not about this cell; GC-1904: lacks
// an axis or measure the flow's fits need; GC-1905: two specs for one role)
// and lays out the stages. Throws InputError / IoError.
FlowPlan plan_flow(const FlowOptions& options);

struct StageOutcome {
  std::string status;      // "ran", "reused", "skipped", "failed"
  int exit_code = 0;
  double duration_s = 0;
  std::string reason;      // skipped/failed: why
  std::string log;         // relative to OUT
  bool points_failed = false;
};

struct FlowEvents {
  std::function<void(std::size_t index, std::size_t count, const Stage& stage)> started;
  std::function<void(std::size_t index, const Stage& stage, const StageOutcome& outcome)> finished;
};

struct FlowResult {
  int failures = 0;
  double wall_time_s = 0;
  std::filesystem::path report;
  nlohmann::json manifest;  // what OUT/flow.json holds
};

// One line about the plan: "cell gc3t (gc_3t of gc3t.sub; held line at 0.45 V,
// reference_column) -> /abs/out".
std::string headline(const FlowPlan& plan);
// How a stage ended, for a progress line: "ran (0.3 s)", "reused",
// "skipped: why", "FAILED: why" (a reason of several lines indented by 4).
std::string outcome_text(const StageOutcome& outcome);

// Runs the stages in order (each a child process; its output in
// OUT/logs/<stage>.log). Never throws for a failing stage: it is recorded.
FlowResult run_flow(const FlowPlan& plan, const FlowOptions& options, const FlowEvents& events);

}  // namespace gaincell::flow
