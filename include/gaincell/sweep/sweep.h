// SPDX-License-Identifier: MIT
// File: gaincell/sweep/sweep.h
//
// Runs a whole sweep: plan the points, simulate them in a worker pool, store
// every result (failures included) in HDF5, report progress, and summarize.
// A failing point never stops the sweep; it is recorded with its status and
// ngspice's message.
//
//   SweepOptions opt;  opt.output = "out.h5";  opt.jobs = 2;
//   SweepSummary s = run_sweep(load_spec("characterization/pushpull_multiply.json"), opt, reporter);
//   std::cout << s.brief();
#pragma once

#include <atomic>
#include <cstdint>
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "gaincell/core/reporter.h"
#include "gaincell/spice/outcome.h"
#include "gaincell/spice/worker_pool.h"
#include "gaincell/sweep/spec.h"

namespace gaincell::store {
struct Results;
}  // namespace gaincell::store

namespace gaincell::sweep {

struct SweepOptions {
  std::filesystem::path output;   // results file; written as <output>.partial until complete
  int jobs = 0;                   // worker processes; 0 = number of cores
  std::size_t recycle_after = 1000;
  double timeout_s = 0.0;         // per point; 0 = the spec's timeout_s
  std::filesystem::path worker;   // gaincell-worker override (tests)
  // Set true (e.g. by a SIGINT/SIGTERM handler) to stop: finished points are
  // written to <output>.partial, which is kept (complete = "no").
  const std::atomic<bool>* stop = nullptr;
  // Shard `shard_index` of `shard_count` (0 = no sharding): the points k with
  // k % shard_count == shard_index (docs/cluster.md).
  std::size_t shard_index = 0;
  std::size_t shard_count = 0;
  // Continue an interrupted or killed run from its journal (OUT.journal).
  bool resume = false;
  // Replace an existing results file (else refused: GC-1810).
  bool overwrite = false;
  // A collapsed sweep (a spec's "collapse"): simulate this many points, drawn
  // with `verify_seed`, exactly at the end and store the largest difference
  // (% of full scale). Above the spec's threshold the summary says so
  // (CollapseSummary::exceeded) and `gaincell sweep` exits 4. GC-1307/GC-1308.
  std::size_t verify = 0;
  std::uint64_t verify_seed = 1;
};

// The global point indices of shard i of n (interleaved: k % n == i).
std::vector<std::size_t> shard_points(std::size_t total, std::size_t index, std::size_t count);

// Parses "i/N" (0 <= i < N). Throws InputError GC-1801.
std::pair<std::size_t, std::size_t> parse_shard(const std::string& text);

struct MeasureRange {
  std::string name;
  std::string unit;
  double min = 0.0;  // over points that succeeded; NaN if none did
  double max = 0.0;
};

// Failed points grouped by what went wrong: the outcome and the first line of
// ngspice's message, with how many points share it and the first of them.
struct FailureGroup {
  spice::SimOutcome outcome = spice::SimOutcome::kOk;
  std::string message;       // first line, of the group's first point
  std::string pattern;       // the first line with every number as '#': what groups share
  std::size_t count = 0;
  std::size_t first_point = 0;
};
class FailureDigest {
 public:
  void add(std::size_t point, spice::SimOutcome outcome, const std::string& message);
  const std::vector<FailureGroup>& groups() const { return groups_; }
  // "  12 x no_convergence from point 3: Error: ..." lines, at most `max_groups`.
  std::string text(std::size_t max_groups = 8, const std::string& indent = "  ") const;

 private:
  std::vector<FailureGroup> groups_;
};

// What a collapsed sweep did, and how well its exact check agreed.
struct CollapseSummary {
  bool enabled = false;
  std::string axis;
  std::size_t simulations = 0;       // transients for the collapsed points (this run)
  std::vector<std::size_t> verified; // the points simulated exactly
  std::size_t unusable = 0;          // of those, points with no comparable value (a failure)
  // Largest |exact - collapsed| / full scale, %, per measure (in spec order)
  // and overall; full scale: the measure's largest |value| over the sweep. NaN: not compared.
  std::vector<std::pair<std::string, double>> errors_pct;
  double max_error_pct = 0.0;
  std::string worst;                 // "q_line_c at point 37"
  double threshold_pct = 0.05;
  bool exceeded = false;             // verified, and above the threshold (or nothing comparable)
};

struct SweepSummary {
  std::string name;
  std::filesystem::path output;
  std::size_t points = 0;
  std::map<spice::SimOutcome, std::size_t> outcomes;
  std::vector<MeasureRange> ranges;
  FailureDigest failures;     // the distinct messages of failed points
  double wall_time_s = 0.0;
  double parse_time_s = 0.0;  // sum over points, inside the workers
  double run_time_s = 0.0;    // sum over points, inside the workers
  int jobs = 0;
  long parent_peak_rss_kib = 0;  // this process (VmHWM)
  double parent_cpu_time_s = 0;  // this process's user + system CPU time
  long worker_peak_rss_kib = 0;  // the largest reaped worker
  std::string ngspice_version;
  spice::PoolStats pool;

  CollapseSummary collapse;
  std::size_t resumed = 0;    // points taken from the journal of an earlier run
  std::size_t reused = 0;     // points of this run a worker ran without a new parse (circuit reuse)
  std::size_t altered = 0;    // of those, points reached by `alter` of sources alone
  bool interrupted = false;   // stopped before every point had a result
  std::size_t done = 0;       // points with a result (ok or failed)
  std::size_t ok() const;
  std::size_t failed() const { return points - ok(); }
  std::string brief() const;  // one paragraph
  std::string full() const;   // brief + ranges + the distinct failure messages
};

// Throws InputError for bad options, IoError if the output cannot be written
// or no worker can start. Point failures are data, not exceptions.
SweepSummary run_sweep(const SweepSpec& spec, const SweepOptions& options, Reporter& reporter);

// Of a results file (`gaincell info`): each measure's range over its finite
// values (NaN if it has none), and the failed points grouped by message.
std::vector<MeasureRange> measure_ranges(const store::Results& results);
FailureDigest failure_digest(const store::Results& results);

}  // namespace gaincell::sweep
