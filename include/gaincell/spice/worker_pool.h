// SPDX-License-Identifier: MIT
// File: gaincell/spice/worker_pool.h
//
// A pool of gaincell-worker processes, each with libngspice loaded once.
// The parent hands out one point at a time per worker, enforces a wall-clock
// timeout per point (SIGKILL), replaces workers that crash, time out or hit a
// ControlledExit, and recycles every worker after `recycle_after` points to
// cap ngspice's memory growth. Every job gets exactly one result, in
// completion order; the run goes on whatever happens to single points.
//
//   WorkerPool pool({.jobs = 2});
//   pool.run(jobs.size(), [&](std::size_t k) { return jobs[k]; },
//            [&](SimResult&& r) { store(r); });
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gaincell/spice/job.h"

namespace gaincell::spice {

struct PoolOptions {
  int jobs = 0;                        // worker processes; 0 = number of cores
  std::size_t recycle_after = 1000;    // points per worker before it is replaced; 0 = never
  std::filesystem::path worker;        // gaincell-worker; empty = find_worker_executable()
  std::string ngspice_library;         // empty = the libngspice gaincell was built against
  std::filesystem::path scratch_dir;   // parent of the workers' private dirs; empty = $TMPDIR or /tmp
  // Extra ngspice init lines (a spec's or card's "ngspice_init", docs/pdk.md),
  // written into every worker's .spiceinit after gaincell's own; each must pass
  // check_init_line (spice/worker.h).
  std::vector<std::string> ngspice_init;
  // When set and it becomes true (e.g. from a SIGINT handler), run() stops:
  // no new jobs, workers killed, unfinished jobs not reported.
  const std::atomic<bool>* stop = nullptr;
};

struct PoolStats {
  std::size_t spawned = 0;     // worker processes started
  std::size_t recycled = 0;    // retired after recycle_after points
  std::size_t crashed = 0;     // died during a point
  std::size_t timed_out = 0;   // killed for exceeding the timeout
  std::size_t poisoned = 0;    // exited after a ControlledExit
};

class WorkerPool {
 public:
  // Throws InputError for invalid options (jobs < 0: GC-1301; an init line
  // off the allow-list: GC-1215 .. GC-1218).
  explicit WorkerPool(PoolOptions options);
  ~WorkerPool();  // kills remaining workers, removes the scratch directory
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs jobs 0..count-1: `make_job(k)` is called when a worker is free, and
  // `on_result` once per job, from this thread. Returns false if it was
  // stopped (PoolOptions::stop) before every job had a result. Throws
  // IoError only if no worker can start at all (e.g. libngspice missing).
  bool run(std::size_t count, const std::function<SimJob(std::size_t)>& make_job,
           const std::function<void(SimResult&&)>& on_result);

  // Starts every worker now (without waiting for them), so that loading
  // libngspice overlaps whatever the caller does before run().
  void start();
  // Asks every worker to quit and reaps it (the pool can run again afterwards).
  void shutdown();
  // The version string of the loaded libngspice (starts a worker if none ran yet).
  std::string ngspice_version();
  const PoolStats& stats() const { return stats_; }
  int jobs() const { return jobs_; }
  // Pids of live workers (for tests that kill one).
  std::vector<pid_t> worker_pids() const;

 private:
  struct Worker;
  class Run;  // the state and the steps of one run()
  void spawn(Worker& w);
  int retire(Worker& w, bool kill_it);  // returns the wait status
  void read_hello(Worker& w);
  void take_hello(Worker& w, const nlohmann::json& hello);
  // Appends `more` to the worker's outbox and sends what the socket takes now,
  // never blocking. False if the worker is gone.
  bool flush_outbox(Worker& w, const std::string& more);
  [[noreturn]] void startup_failure(Worker& w, std::string why);
  // The message of a "fatal" frame the worker sent before dying ("" if none).
  std::string last_fatal_message(Worker& w);
  void retire_log_into(Worker& w, std::string* text);

  PoolOptions options_;
  int jobs_ = 1;
  std::filesystem::path scratch_;
  std::filesystem::path worker_exe_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::string ngspice_version_;
  PoolStats stats_;
  std::size_t next_worker_serial_ = 0;
};

}  // namespace gaincell::spice
