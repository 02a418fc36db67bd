// SPDX-License-Identifier: MIT
// Real ngspice through real worker processes: every failure class is
// recorded with its status and ngspice's message, and the next point runs.
#include "gaincell/spice/worker_pool.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "test_support.h"

using namespace gaincell;
using gaincell::spice::SimJob;
using gaincell::spice::SimOutcome;
using gaincell::spice::SimResult;

namespace {

// A 1k/1p RC driven by a 1 V step at 1 ns: v(out) = 1 - exp(-(t - 1n)/1n).
const char* const kGoodRc =
    "good rc\n"
    "V1 in 0 PULSE(0 1 1n 10p 10p 100n 200n)\n"
    "R1 in out 1k\n"
    "C1 out 0 1p\n"
    ".tran 0.01n 10n\n"
    ".save v(out)\n"
    ".end\n";

SimJob rc_job(std::uint64_t id, const std::string& netlist = kGoodRc) {
  SimJob job;
  job.id = id;
  job.netlist = netlist;
  job.t_stop_s = 10e-9;
  measure::ResolvedMeasure m;
  m.name = "v_out_v";
  m.kind = measure::MeasureKind::kValueAt;
  m.unit = "V";
  m.of = "v(out)";
  job.measures = {m};
  job.timeout_s = 30;
  return job;
}

spice::PoolOptions one_worker() {
  spice::PoolOptions options;
  options.jobs = 1;
  return options;
}

std::map<std::uint64_t, SimResult> run_all(spice::WorkerPool& pool, const std::vector<SimJob>& jobs) {
  std::map<std::uint64_t, SimResult> results;
  pool.run(jobs.size(), [&](std::size_t k) { return jobs[k]; },
           [&](SimResult&& r) {
             const auto id = r.id;
             REQUIRE(results.count(id) == 0);  // exactly one result per job
             results.emplace(id, std::move(r));
           });
  REQUIRE(results.size() == jobs.size());
  return results;
}

}  // namespace

TEST_CASE("a good point matches the RC's analytic response", "[ngspice][engine]") {
  spice::WorkerPool pool(one_worker());
  auto results = run_all(pool, {rc_job(0)});
  const SimResult& r = results.at(0);
  REQUIRE(r.outcome == SimOutcome::kOk);
  CHECK(r.message.empty());
  CHECK(r.values[0] == Approx(1.0 - std::exp(-9.0)).margin(1e-3));
  CHECK(r.run_time_s > 0);
  CHECK(pool.ngspice_version().rfind("ngspice-", 0) == 0);
}

TEST_CASE("each failure class is recorded and the next point still runs", "[ngspice][engine]") {
  // XSPICE table2D with order 4 segfaults in ngspice 39.3: a real crash.
  // ngspice lower-cases the file name, so the table lives at a lower-case path.
  const std::filesystem::path table = "/tmp/gaincell_crash_" + std::to_string(::getpid()) + ".tbl";
  testing::write_file(table, "5\n3\n0 0.25 0.5 0.75 1.0\n0 0.5 1.0\n0 1 2 3 4\n0 1 2 3 4\n0 1 2 3 4\n");
  const std::vector<std::pair<SimOutcome, std::string>> cases = {
      {SimOutcome::kMissingModel, "missing model\nM1 d g 0 0 nch_ulvt W=1u L=1u\nV1 d 0 1\nV2 g 0 1\n"
                                  ".tran 1n 10n\n.end\n"},
      {SimOutcome::kMissingModel, "missing include\n.include /nonexistent/gaincell/models.lib\nR1 a 0 1\nV1 a 0 1\n"
                                  ".tran 1n 10n\n.end\n"},
      {SimOutcome::kParseError, "bad element\nV1 in 0 1\nR1 in out 1k\nC1 out 0 1p foo bar\n.tran 1n 10n\n.end\n"},
      {SimOutcome::kNoConvergence, "no operating point\nB1 osc 0 V = V(osc) < 0.45 ? 0.9 : 0\nR1 osc 0 1k\n"
                                   ".tran 1n 10n\n.end\n"},
      {SimOutcome::kTimestepTooSmall, "diverges at 5 ns\nV1 in 0 1\nR1 in x 1k\nC1 x 0 1p\n"
                                      "B1 y 0 I = time > 5n ? 1e-3*exp(1e3*V(y)) : 0\nC2 y 0 1f\nR3 y 0 1meg\n"
                                      "I1 0 y 1u\n.tran 0.1n 10n\n.end\n"},
      {SimOutcome::kControlledExit, "bad param\n.param vdd=0.9\n.param v2={vdd*undefined_ratio}\nV1 a 0 {v2}\n"
                                    "R1 a 0 1k\n.tran 1n 10n\n.end\n"},
      {SimOutcome::kCrash, "table2d crash\nV1 a 0 PULSE(0 1 1n 1n 1n 5n 20n)\nV2 b 0 0.5\na1 a b %id(c 0) tab1\n"
                           ".model tab1 table2d (file=\"" + table.string() + "\" order=4)\n"
                           "R1 c 0 1k\n.tran 0.1n 10n\n.end\n"},
  };
  std::vector<SimJob> jobs;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SimJob bad = rc_job(2 * i, cases[i].second);
    bad.measures.clear();
    jobs.push_back(bad);
    jobs.push_back(rc_job(2 * i + 1));  // the next point, on the same worker (jobs = 1)
  }
  spice::WorkerPool pool(one_worker());
  auto results = run_all(pool, jobs);
  const double expected = results.at(1).values[0];
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const SimResult& bad = results.at(2 * i);
    const SimResult& next = results.at(2 * i + 1);
    INFO("case " << i << ": " << spice::to_string(cases[i].first) << "\nmessage: " << bad.message);
    CHECK(bad.outcome == cases[i].first);
    CHECK_FALSE(bad.message.empty());
    CHECK(next.outcome == SimOutcome::kOk);
    CHECK(next.values[0] == expected);  // bit-identical after any failure
  }
  CHECK(results.at(0).message.find("nch_ulvt") != std::string::npos);
  CHECK(results.at(4).message.find("foo") != std::string::npos);
  CHECK(results.at(8).message.find("Timestep too small") != std::string::npos);
  CHECK(results.at(10).message.find("undefined_ratio") != std::string::npos);
#if GAINCELL_TEST_SANITIZED
  // AddressSanitizer catches the segfault inside ngspice and aborts the worker.
  CHECK(results.at(12).message.find("AddressSanitizer:DEADLYSIGNAL") != std::string::npos);
  CHECK(results.at(12).message.find("killed by signal 6") != std::string::npos);
#else
  CHECK(results.at(12).message.find("killed by signal 11") != std::string::npos);
#endif
  CHECK(pool.stats().crashed == 1);
  CHECK(pool.stats().poisoned == 1);
  std::filesystem::remove(table);
}

TEST_CASE("a point over its timeout is killed and recorded; the sweep goes on", "[ngspice][engine]") {
  // A 4 fs pulse train over 10 ns makes the transient crawl for minutes.
  const std::string endless =
      "endless\nV1 a 0 PULSE(0 1 0 1f 1f 1f 4f)\nR1 a b 1k\nC1 b 0 1p\n.tran 0.1n 10n\n.end\n";
  SimJob slow = rc_job(0, endless);
  slow.timeout_s = 1.0;
  spice::WorkerPool pool(one_worker());
  auto results = run_all(pool, {slow, rc_job(1)});
  CHECK(results.at(0).outcome == SimOutcome::kTimeout);
  CHECK(results.at(0).message.find("exceeded its timeout of 1 s") != std::string::npos);
  CHECK(std::isnan(results.at(0).values[0]));
  CHECK(results.at(1).outcome == SimOutcome::kOk);
  CHECK(pool.stats().timed_out == 1);
}

TEST_CASE("a worker killed with SIGKILL mid-point is replaced and the run completes", "[ngspice][engine]") {
  const std::string endless =
      "endless\nV1 a 0 PULSE(0 1 0 1f 1f 1f 4f)\nR1 a b 1k\nC1 b 0 1p\n.tran 0.1n 10n\n.end\n";
  std::vector<SimJob> jobs = {rc_job(0), rc_job(1, endless), rc_job(2), rc_job(3), rc_job(4)};
  std::atomic<bool> killed{false};
  std::atomic<pid_t> victim{0};
  // The killer waits until the endless point has surely started, then kills
  // whichever worker process exists (there is one: jobs = 1).
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    for (pid_t pid : testing::processes_named("gaincell-worker", ::getpid())) {
      victim = pid;
      killed = ::kill(pid, SIGKILL) == 0;
    }
  });
  spice::WorkerPool pool(one_worker());
  auto results = run_all(pool, jobs);
  killer.join();
  REQUIRE(killed);
  CHECK(results.at(1).outcome == SimOutcome::kCrash);
  CHECK(results.at(1).message.find("killed by signal 9") != std::string::npos);
  CHECK(results.at(1).message.find(std::to_string(victim.load())) != std::string::npos);
  for (std::uint64_t k : {0, 2, 3, 4}) CHECK(results.at(k).outcome == SimOutcome::kOk);
  CHECK(results.at(2).worker_pid != victim.load());  // a new worker took over
  CHECK(pool.stats().spawned == 2);
}

TEST_CASE("workers are recycled after the configured number of points", "[ngspice][engine]") {
  std::vector<SimJob> jobs;
  for (std::uint64_t k = 0; k < 7; ++k) jobs.push_back(rc_job(k));
  spice::PoolOptions options;
  options.jobs = 2;
  options.recycle_after = 2;
  spice::WorkerPool pool(options);
  auto results = run_all(pool, jobs);
  std::map<int, int> points_per_worker;
  for (const auto& [k, r] : results) {
    CHECK(r.outcome == SimOutcome::kOk);
    CHECK(r.values[0] == results.at(0).values[0]);
    ++points_per_worker[r.worker_pid];
  }
  for (const auto& [pid, n] : points_per_worker) CHECK(n <= 2);
  CHECK(points_per_worker.size() >= 4);
  CHECK(pool.stats().recycled >= 3);
}

TEST_CASE("the pool refuses negative worker counts and more than the documented limit", "[unit][engine]") {
  spice::PoolOptions options;
  options.jobs = -1;
  CHECK_THROWS_WITH(spice::WorkerPool(options),
                    "error GC-1301: -1 workers: expected 0 (one per core) to 256 (limits::kMaxJobs, docs/cli.md#limits)");
  options.jobs = 100000;  // once: "pipe: Too many open files" after forking hundreds
  CHECK_THROWS_WITH(spice::WorkerPool(options), Catch::Contains("100000 workers") && Catch::Contains("kMaxJobs"));
}

TEST_CASE("a worker that cannot load libngspice is an error, not a crashed point", "[ngspice][engine]") {
  spice::PoolOptions options;
  options.jobs = 2;
  options.ngspice_library = "/nonexistent/libngspice.so.0";
  spice::WorkerPool pool(options);
  std::size_t results = 0;
  CHECK_THROWS_WITH(pool.run(3, [](std::size_t k) { return rc_job(k); }, [&](SimResult&&) { ++results; }),
                    Catch::Matchers::Contains("could not start") &&
                        Catch::Matchers::Contains("cannot load libngspice from /nonexistent/libngspice.so.0"));
  CHECK(results == 0);
}

TEST_CASE("a result larger than the socket buffers never deadlocks the driver and its workers", "[ngspice][engine]") {
  // A 100k-sample trace is ~1 MB of result: the worker blocks writing it until
  // the driver reads, while the driver has more jobs to send that worker. The
  // driver must never block writing (it did: both sat in send() forever).
  std::vector<SimJob> jobs;
  for (std::uint64_t k = 0; k < 6; ++k) {
    SimJob j = rc_job(k);
    measure::ResolvedMeasure t;
    t.name = "v_trace_v";
    t.kind = measure::MeasureKind::kTrace;
    t.unit = "V";
    t.of = "v(out)";
    for (int i = 0; i < 100000; ++i) t.times_s.push_back(10e-9 * i / 99999.0);
    j.measures.push_back(t);
    jobs.push_back(j);
  }
  spice::PoolOptions options;
  options.jobs = 2;
  spice::WorkerPool pool(options);
  const auto results = run_all(pool, jobs);
  for (const auto& [k, r] : results) {
    REQUIRE(r.outcome == SimOutcome::kOk);
    CHECK(r.values.size() == 100001);
    CHECK(r.values.back() == Approx(1 - std::exp(-9.0)).epsilon(1e-3));
  }
}
