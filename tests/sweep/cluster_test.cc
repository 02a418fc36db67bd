// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/reporter.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/cluster.h"
#include "gaincell/sweep/slurm.h"
#include "gaincell/sweep/journal.h"
#include "gaincell/sweep/sweep.h"
#include "test_support.h"

using namespace gaincell;
using namespace gaincell::testing;

namespace {

std::string gaincell_exe() { return (bin_dir() / "gaincell").string(); }


}  // namespace

TEST_CASE("shard i/N parsing and the interleaved layout", "[unit][cluster]") {
  CHECK(sweep::parse_shard("3/8") == std::pair<std::size_t, std::size_t>{3, 8});
  for (const char* bad : {"8/8", "3", "/8", "a/8", "3/0", "3/8x", "-1/8"}) {
    INFO(bad);
    CHECK_THROWS_WITH(sweep::parse_shard(bad), Catch::Contains("GC-1801"));
  }
  std::vector<int> seen(103, 0);
  for (std::size_t i = 0; i < 4; ++i) {
    for (auto k : sweep::shard_points(103, i, 4)) {
      CHECK(k % 4 == i);
      ++seen[k];
    }
  }
  CHECK(std::count(seen.begin(), seen.end(), 1) == 103);
}

TEST_CASE("journal: records survive, a torn tail is dropped, damage is an error", "[unit][cluster]") {
  TempDir dir;
  const auto path = dir / "j.journal";
  {
    auto w = sweep::JournalWriter::create(path, {{"format", "gaincell-journal/1"}, {"spec_sha256", "x"}});
    w.write({7, spice::SimOutcome::kOk, {1.5, -2.0}, 1e-3, 2e-3, ""});
    w.write({3, spice::SimOutcome::kTimestepTooSmall, {std::nan(""), std::nan("")}, 0, 0, "timestep too small"});
  }
  auto c = sweep::read_journal(path);
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[0].point == 7);
  CHECK(c.records[0].values == std::vector<double>{1.5, -2.0});
  CHECK(c.records[1].message == "timestep too small");
  CHECK_FALSE(c.torn_tail);
  const auto full = std::filesystem::file_size(path);
  // A kill in the middle of the last write: dropped, the rest kept.
  std::filesystem::resize_file(path, full - 5);
  c = sweep::read_journal(path);
  CHECK(c.records.size() == 1);
  CHECK(c.torn_tail);
  // A flipped byte in the first record, with a record after it: an error, not a skip.
  std::filesystem::resize_file(path, full);
  {
    auto w = sweep::JournalWriter::create(path, {{"format", "gaincell-journal/1"}});
    w.write({1, spice::SimOutcome::kOk, {1.0}, 0, 0, ""});
    w.write({2, spice::SimOutcome::kOk, {2.0}, 0, 0, ""});
  }
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(path) / 2));
  f.put('\x55');
  f.close();
  CHECK_THROWS_WITH(sweep::read_journal(path), Catch::Contains("GC-1804") && Catch::Contains("damaged"));
}

TEST_CASE("shards merge into the unsharded run's data; merge refuses what does not fit", "[ngspice][cluster]") {
  TempDir dir;
  const std::string spec = (source_dir() / "tests" / "data" / "rc_sweep.json").string();
  REQUIRE(run_command(gaincell_exe() + " -q sweep " + spec + " -o " + (dir / "full.h5").string()).exit_code == 0);
  std::string shards;
  for (int i = 0; i < 3; ++i) {
    const auto out = dir / ("s" + std::to_string(i) + ".h5");
    REQUIRE(run_command(gaincell_exe() + " -q sweep " + spec + " --shard " + std::to_string(i) + "/3 -o " + out.string())
                .exit_code == 0);
    shards += " " + out.string();
    const auto r = store::read_results(out);
    CHECK(r.point_index.size() == (i == 0 ? 200u : 200u));
    CHECK(r.point_index[1] - r.point_index[0] == 3);
  }
  REQUIRE(run_command(gaincell_exe() + " -q merge" + shards + " -o " + (dir / "merged.h5").string()).exit_code == 0);
  const auto full = store::read_results(dir / "full.h5");
  const auto merged = store::read_results(dir / "merged.h5");
  require_same_data(full, merged);
  CHECK(merged.attributes.at("spec_sha256") == full.attributes.at("spec_sha256"));
  CHECK(merged.attributes.count("merged_from") == 1);
  // A missing shard, a doubled one, a shard of another spec.
  auto r = run_command(gaincell_exe() + " merge " + (dir / "s0.h5").string() + " " + (dir / "s1.h5").string() + " -o " +
                       (dir / "x.h5").string());
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.output, Catch::Contains("GC-1807") && Catch::Contains("shards missing: 2"));
  r = run_command(gaincell_exe() + " merge " + (dir / "s0.h5").string() + " " + (dir / "s0.h5").string() + " " +
                  (dir / "s2.h5").string() + " -o " + (dir / "x.h5").string());
  CHECK_THAT(r.output, Catch::Contains("GC-1806"));
  const std::string other = (source_dir() / "tests" / "data" / "faulty_rc.json").string();
  REQUIRE(run_command(gaincell_exe() + " -q sweep " + other + " --shard 2/3 -o " + (dir / "o2.h5").string()).exit_code != 3);
  r = run_command(gaincell_exe() + " merge " + (dir / "s0.h5").string() + " " + (dir / "s1.h5").string() + " " +
                  (dir / "o2.h5").string() + " -o " + (dir / "x.h5").string());
  CHECK_THAT(r.output, Catch::Contains("GC-1806") && Catch::Contains("spec_sha256"));
  CHECK_FALSE(std::filesystem::exists(dir / "x.h5"));
}

TEST_CASE("SIGKILL at random moments, then --resume: exactly the uninterrupted data", "[ngspice][cluster]") {
  TempDir dir;
  const std::string spec = (source_dir() / "tests" / "data" / "rc_sweep_6k.json").string();
  REQUIRE(run_command(gaincell_exe() + " -q sweep " + spec + " -o " + (dir / "ref.h5").string()).exit_code == 0);
  const auto out = dir / "killed.h5";
  const std::vector<std::string> args = {gaincell_exe(), "-q", "sweep", spec, "-o", out.string(), "--resume"};
  std::mt19937 rng(20261124);
  std::uniform_int_distribution<int> delay_ms(150, 900);
  std::size_t journaled = 0;
  int kills = 0;
  for (int attempt = 0; attempt < 4; ++attempt) {
    const pid_t pid = spawn(args);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    if (::kill(pid, SIGKILL) == 0) ++kills;
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (std::filesystem::exists(out)) break;  // it finished before the kill
    // Nothing computed is lost: the journal only grows, and never holds a point twice.
    const auto j = sweep::read_journal(out.string() + ".journal");
    std::set<std::size_t> distinct;
    for (const auto& rec : j.records) distinct.insert(rec.point);
    CHECK(distinct.size() == j.records.size());
    CHECK(j.records.size() >= journaled);
    journaled = j.records.size();
    // The killed run's HDF5 file is only ever the .partial one.
    CHECK_FALSE(std::filesystem::exists(out));
  }
  CHECK(kills >= 2);
  CHECK(journaled > 0);
  // Without --resume the interrupted run is not silently overwritten.
  if (!std::filesystem::exists(out)) {
    const auto r = run_command(gaincell_exe() + " -q sweep " + spec + " -o " + out.string());
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.output, Catch::Contains("GC-1803") && Catch::Contains("--resume"));
  }
  const auto r = run_command(gaincell_exe() + " -q sweep " + spec + " -o " + out.string() + " --resume");
  REQUIRE(r.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(out.string() + ".journal"));
  CHECK_FALSE(std::filesystem::exists(out.string() + ".partial"));
  const auto ref = store::read_results(dir / "ref.h5");
  const auto got = store::read_results(out);
  require_same_data(ref, got);
  // The last run took every point journaled before it from the journal.
  CHECK(std::stoul(got.attributes.at("points_from_journal")) >= journaled);
  // Resuming a finished run does nothing.
  const auto again = run_command(gaincell_exe() + " sweep " + spec + " -o " + out.string() + " --resume");
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.output, Catch::Contains("already complete"));
}

TEST_CASE("gaincell slurm writes the job scripts; status reads the files", "[ngspice][cluster]") {
  TempDir dir;
  const std::string spec = (source_dir() / "tests" / "data" / "rc_sweep.json").string();
  const auto job = dir / "job";
  auto r = run_command(gaincell_exe() + " slurm " + spec + " --shards 4 -o " + job.string() +
                       " --partition debug --time 00:10:00 --mem 1G --cpus-per-task 2 --sbatch=--qos=short");
  REQUIRE(r.exit_code == 0);
  const std::string array = read_text_file(job / "shards.sbatch");
  CHECK_THAT(array, Catch::Contains("#SBATCH --array=0-3") && Catch::Contains("#SBATCH --partition=debug") &&
                        Catch::Contains("#SBATCH --time=00:10:00") && Catch::Contains("#SBATCH --mem=1G") &&
                        Catch::Contains("#SBATCH --qos=short") && Catch::Contains("--shard \"$i/4\"") &&
                        Catch::Contains("--resume") && Catch::Contains(spec));
  CHECK_THAT(read_text_file(job / "merge.sbatch"), Catch::Contains(" merge ") && Catch::Contains("merged.h5"));
  // Run shard 1 by hand as Slurm would, and half of shard 2 (a journal): status from the files.
  r = run_command("SLURM_ARRAY_TASK_ID=1 SLURM_CPUS_PER_TASK=1 bash " + (job / "shards.sbatch").string());
  REQUIRE(r.exit_code == 0);
  r = run_command(gaincell_exe() + " status " + job.string());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("shard   1  done") && Catch::Contains("150 ok") &&
                        Catch::Contains("not started") && Catch::Contains("450 pending"));
  CHECK_THAT(run_command(gaincell_exe() + " status " + dir.path().string()).output, Catch::Contains("GC-1808"));
}

TEST_CASE("arrays split at MaxArraySize, task ids map back to shards, %N throttles", "[unit][cluster]") {
  auto arrays = sweep::plan_arrays({0, 1, 2, 3}, 3, 2);
  REQUIRE(arrays.size() == 2);
  CHECK(arrays[0].offset == 0);
  CHECK(arrays[0].array == "0-2%2");
  CHECK(arrays[1].offset == 3);
  CHECK(arrays[1].array == "0%2");
  CHECK(arrays[1].shards == std::vector<std::size_t>{3});
  // A resubmission: any subset, in any order; ranges where ids are consecutive.
  arrays = sweep::plan_arrays({3000, 7, 5, 2999, 6, 1, 2500, 6}, 1000, 0);
  REQUIRE(arrays.size() == 3);
  CHECK((arrays[0].offset == 0 && arrays[0].array == "1,5-7"));
  CHECK((arrays[1].offset == 2000 && arrays[1].array == "500,999"));
  CHECK((arrays[2].offset == 3000 && arrays[2].array == "0"));
  for (const auto& a : arrays) {
    for (std::size_t s : a.shards) CHECK(s - a.offset < 1000);  // every task id below MaxArraySize
  }
  CHECK(sweep::plan_arrays({0, 1000}, 1001, 0).size() == 1);
  std::vector<std::size_t> all(2500);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  arrays = sweep::plan_arrays(all, 1001, 0);  // docs/cluster.md, "Large arrays"
  REQUIRE(arrays.size() == 3);
  CHECK((arrays[0].offset == 0 && arrays[0].array == "0-1000"));
  CHECK((arrays[1].offset == 1001 && arrays[1].array == "0-1000"));
  CHECK((arrays[2].offset == 2002 && arrays[2].array == "0-497"));
  CHECK_THROWS_WITH(sweep::plan_arrays({0}, 0, 0), Catch::Contains("GC-1814"));

  // `scontrol show config` as Slurm 22.05 prints it.
  CHECK(sweep::parse_max_array_size("JobRequeue              = 1\nMaxArraySize            = 1001\nMaxJobCount = 10000\n") ==
        1001);
  CHECK_THROWS_WITH(sweep::parse_max_array_size("MaxArraySize = 0\n"), Catch::Contains("GC-1814"));
  CHECK_THROWS_WITH(sweep::parse_max_array_size("MaxJobCount = 10000\n"), Catch::Contains("GC-1814") &&
                                                                          Catch::Contains("--max-array-size"));
}

TEST_CASE("gaincell slurm --requeue: the script traps SIGUSR1, keeps the journal and resumes", "[ngspice][cluster]") {
  TempDir dir;
  const std::string spec = (source_dir() / "tests" / "data" / "rc_sweep_6k.json").string();
  const auto job = dir / "job";
  // 5 shards, MaxArraySize 2: three arrays (offsets 0, 2, 4), each throttled to 1 task.
  auto r = run_command(gaincell_exe() + " slurm " + spec + " --shards 5 -o " + job.string() +
                       " --requeue --signal-lead 60 --max-requeues 2 --max-running 1 --max-array-size 2");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("5 shards in 3 array jobs") &&
                           Catch::Contains("--array=0-1%1 " + job.string() + "/shards.sbatch 0)") &&
                           Catch::Contains("--array=0-1%1 " + job.string() + "/shards.sbatch 2)") &&
                           Catch::Contains("--array=0%1 " + job.string() + "/shards.sbatch 4)") &&
                           Catch::Contains("--dependency=afterok:${a0%%;*}:${a1%%;*}:${a2%%;*}"));
  const std::string script = read_text_file(job / "shards.sbatch");
  CHECK_THAT(script, Catch::Contains("#SBATCH --requeue\n") && Catch::Contains("#SBATCH --signal=B:USR1@60\n") &&
                         Catch::Contains("#SBATCH --open-mode=append\n") && Catch::Contains("trap 'forward USR1' USR1") &&
                         Catch::Contains("job=\"${SLURM_ARRAY_JOB_ID:-?}_${task}\"") &&
                         Catch::Contains("scontrol requeue \"$job\"") &&
                         Catch::Contains("-lt 2 ]"));
  CHECK_THAT(script, !Catch::Contains("#SBATCH --array"));  // 5 shards do not fit one array of MaxArraySize 2
  const auto manifest = nlohmann::json::parse(read_text_file(job / "slurm.json"));
  CHECK(manifest["requeue"]["signal"] == "B:USR1@60");
  CHECK(manifest["max_running"] == 1);

  // Task 0 of the array with offset 3 is shard 3. Run it as Slurm would; SIGUSR1
  // to the batch script once the shard has journaled a few more points (a record
  // is about 140 bytes).
  const auto journal = job / "shard-3.h5.journal";
  auto run_and_signal = [&](const char* restarts) {
    std::error_code ec;
    const auto before = std::filesystem::exists(journal, ec) ? std::filesystem::file_size(journal, ec) : 0;
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::setenv("SLURM_ARRAY_TASK_ID", "0", 1);
      ::setenv("SLURM_ARRAY_JOB_ID", "999999", 1);
      ::setenv("SLURM_CPUS_PER_TASK", "1", 1);
      ::setenv("SLURM_RESTART_COUNT", restarts, 1);
      ::unsetenv("SLURM_CONF");  // no cluster: the requeue itself fails here, and says so
      ::execl("/bin/bash", "bash", (job / "shards.sbatch").c_str(), "3", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int k = 0; k < 3000; ++k) {
      if (std::filesystem::exists(journal, ec) && std::filesystem::file_size(journal, ec) > before + 2000) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGUSR1);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 143);  // the shard stopped on the SIGTERM the script sent it
  };
  run_and_signal("0");
  std::string log = read_text_file(job / "logs" / "shard-3.out");
  CHECK_THAT(log, Catch::Contains("shard 3/5, Slurm task 999999_0, start 1") &&
                      Catch::Contains("interrupted:") && Catch::Contains("stopped by SIGUSR1") &&
                      Catch::Contains("requeueing 999999_0 (restart 1 of 2)") &&
                      Catch::Contains("scontrol requeue failed"));
  CHECK(std::filesystem::exists(journal));
  CHECK(!std::filesystem::exists(job / "shard-3.h5"));
  // After --max-requeues restarts the task no longer requeues itself.
  run_and_signal("2");
  log = read_text_file(job / "logs" / "shard-3.out");
  CHECK_THAT(log, Catch::Contains("start 3 on") && Catch::Contains("not requeued: 2 restarts already"));
  CHECK(std::filesystem::exists(journal));
  // The requeued start: it resumes from the journal and finishes the shard.
  r = run_command("SLURM_ARRAY_TASK_ID=0 SLURM_RESTART_COUNT=1 SLURM_CPUS_PER_TASK=1 bash " +
                  (job / "shards.sbatch").string() + " 3");
  CHECK(r.exit_code == 0);
  log = read_text_file(job / "logs" / "shard-3.out");
  CHECK_THAT(log, Catch::Contains("start 2 on") && Catch::Contains("from the journal") &&
                      Catch::Contains("shard 3 exit 0"));
  const auto shard = store::read_results(job / "shard-3.h5");
  CHECK(shard.point_index.size() == 1200);
  CHECK(!std::filesystem::exists(journal));
  // An offset beyond the shards is refused, not run.
  r = run_command("SLURM_ARRAY_TASK_ID=1 bash " + (job / "shards.sbatch").string() + " 4");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("shard 5 is beyond the 5 shards"));
}

TEST_CASE("gaincell slurm: what --resubmit-failed and --submit refuse without a cluster", "[ngspice][cluster]") {
  TempDir dir;
  const auto spec = dir / "rc_sweep.json";
  std::filesystem::copy_file(source_dir() / "tests" / "data" / "rc_sweep.json", spec);
  std::filesystem::copy_file(source_dir() / "tests" / "data" / "rc_sweep.cir", dir / "rc_sweep.cir");
  const auto job = dir / "job";
  // No Slurm client on PATH: MaxArraySize cannot be read, and --submit says so.
  auto r = run_command("PATH=/var/empty " + gaincell_exe() + " slurm " + spec.string() + " --shards 2 -o " +
                       job.string() + " --submit");
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.output, Catch::Contains("GC-1814") && Catch::Contains("scontrol") &&
                           Catch::Contains("--max-array-size"));
  // Writing only: Slurm's default is assumed, and said.
  r = run_command("PATH=/var/empty " + gaincell_exe() + " slurm " + spec.string() + " --shards 2 -o " + job.string());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("MaxArraySize 1001: Slurm's default"));
  CHECK_THAT(read_text_file(job / "shards.sbatch"), Catch::Contains("#SBATCH --array=0-1\n"));
  // Usage: SPEC and -o, or --resubmit-failed alone.
  CHECK(run_command(gaincell_exe() + " slurm --shards 2").exit_code == 2);
  r = run_command(gaincell_exe() + " slurm " + spec.string() + " --resubmit-failed " + job.string());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("excludes"));
  CHECK_THAT(run_command(gaincell_exe() + " slurm --resubmit-failed " + dir.path().string()).output,
             Catch::Contains("GC-1808"));
  // The spec changed since the scripts were written: its shards would not merge.
  write_file(spec, read_text_file(spec) + "\n");
  r = run_command(gaincell_exe() + " slurm --resubmit-failed " + job.string());
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.output, Catch::Contains("GC-1817") && Catch::Contains("has changed"));
  std::filesystem::remove(job / "merge.sbatch");
  CHECK_THAT(run_command(gaincell_exe() + " slurm --resubmit-failed " + job.string()).output,
             Catch::Contains("GC-1816") && Catch::Contains("merge.sbatch is missing"));
}
