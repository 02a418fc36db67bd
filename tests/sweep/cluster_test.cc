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
