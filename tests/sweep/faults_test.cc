// SPDX-License-Identifier: MIT
// Trust under faults: points that crash, hang, exit or fail in ngspice on
// purpose (GAINCELL_TEST_FAULTS); a driver killed while its workers run; a
// second run on the same output; outputs that are not regular files.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/spice/fault_injection.h"
#include "gaincell/store/results_file.h"
#include "test_support.h"

using namespace gaincell;
using namespace gaincell::testing;
using Catch::Matchers::Contains;

namespace {

std::string gaincell_exe() { return (bin_dir() / "gaincell").string(); }
std::string spec_600() { return (source_dir() / "tests" / "data" / "rc_sweep.json").string(); }

// Waits (polling) until `done` holds or `limit` passes; returns done().
template <typename F>
bool wait_for(F done, std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

int wait_exit(int pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("fault plans: parsing and a stable choice of points", "[unit][faults]") {
  CHECK_FALSE(spice::parse_fault_plan(""));
  CHECK_FALSE(spice::parse_fault_plan("seed=1"));
  CHECK_FALSE(spice::parse_fault_plan("rate=2"));
  CHECK_FALSE(spice::parse_fault_plan("rate=0.1,kinds=meteor"));
  const auto plan = spice::parse_fault_plan("rate=0.1,seed=7");
  REQUIRE(plan);
  std::size_t faulty = 0;
  std::map<spice::InjectedFault, std::size_t> kinds;
  for (std::size_t id = 0; id < 10000; ++id) {
    const auto f = spice::fault_for(*plan, id);
    CHECK(f == spice::fault_for(*plan, id));
    if (f != spice::InjectedFault::kNone) ++faulty;
    ++kinds[f];
  }
  CHECK(faulty > 900);
  CHECK(faulty < 1100);
  CHECK(kinds.size() == 5);  // none and all four kinds
  const auto hangs = spice::parse_fault_plan("kinds=hang,rate=1,seed=3");
  REQUIRE(hangs);
  for (std::size_t id = 0; id < 100; ++id) CHECK(spice::fault_for(*hangs, id) == spice::InjectedFault::kHang);
}

TEST_CASE("10 % of points segfault, hang, exit or fail in ngspice: exactly those fail, the rest equal a clean run",
          "[ngspice][faults]") {
  TempDir dir;
  const std::string plan_text = "rate=0.1,seed=7";
  const auto plan = spice::parse_fault_plan(plan_text);
  REQUIRE(plan);
  // Point 0 runs first alone (preflight): this seed leaves it clean.
  REQUIRE(spice::fault_for(*plan, 0) == spice::InjectedFault::kNone);

  const auto clean = run_command(gaincell_exe() + " -q sweep " + spec_600() + " -o clean.h5 -j 2", dir.path());
  REQUIRE(clean.exit_code == 0);
  const int pid = spawn({gaincell_exe(), "-q", "sweep", spec_600(), "-o", (dir / "faulty.h5").string(), "-j", "2",
                         "--timeout", "2"},
                        {std::string(spice::kFaultEnv) + "=" + plan_text});
  CHECK(wait_exit(pid) == 4);  // finished, some points failed
  const auto a = store::read_results(dir / "clean.h5");
  const auto b = store::read_results(dir / "faulty.h5");
  REQUIRE(a.status.size() == 600);
  REQUIRE(b.status.size() == 600);
  std::map<spice::InjectedFault, std::size_t> seen;
  std::size_t wrong = 0;
  for (std::size_t k = 0; k < 600; ++k) {
    const auto f = spice::fault_for(*plan, k);
    ++seen[f];
    if (b.status[k] != spice::expected_outcome(f)) {
      ++wrong;
      UNSCOPED_INFO("point " << k << ": injected " << spice::to_string(f) << ", status "
                             << spice::to_string(b.status[k]) << ": " << b.messages[k]);
      continue;
    }
    if (f != spice::InjectedFault::kNone) continue;
    for (const auto& [name, va] : a.values) CHECK(va[k] == b.values.at(name)[k]);  // bit for bit
  }
  CHECK(wrong == 0);
  for (const auto kind : {spice::InjectedFault::kSegfault, spice::InjectedFault::kHang, spice::InjectedFault::kExit,
                          spice::InjectedFault::kNgspiceError}) {
    INFO(spice::to_string(kind));
    CHECK(seen[kind] >= 5);  // every kind happened several times
  }
}

TEST_CASE("workers die with a SIGKILLed driver, and the next pool removes its scratch directory", "[ngspice][faults]") {
  TempDir dir;
  std::filesystem::create_directories(dir / "tmp");
  const std::string tag = "orphans-" + dir.path().filename().string();
  // Every point hangs: the workers would run forever after the driver.
  const int pid = spawn({gaincell_exe(), "-q", "sweep", spec_600(), "-o", (dir / "o.h5").string(), "-j", "2",
                         "--timeout", "1000"},
                        {std::string(spice::kFaultEnv) + "=rate=1,seed=1,kinds=hang", "GAINCELL_TEST_TAG=" + tag,
                         "TMPDIR=" + (dir / "tmp").string()});
  // Driver and two workers, then a scratch directory.
  REQUIRE(wait_for([&] { return processes_tagged(tag).size() >= 3; }));
  std::filesystem::path scratch;
  for (const auto& e : std::filesystem::directory_iterator(dir / "tmp")) scratch = e.path();
  REQUIRE_FALSE(scratch.empty());
  CHECK_THAT(scratch.filename().string(), Catch::StartsWith("gaincell-pool-" + std::to_string(pid) + "-"));
  ::kill(pid, SIGKILL);
  CHECK(wait_exit(pid) == 128 + SIGKILL);
  // The workers follow it (parent-death signal), though their points hang.
  CHECK(wait_for([&] { return processes_tagged(tag).empty(); }));
  CHECK(std::filesystem::exists(scratch));  // a SIGKILL leaves it behind...
  // ... and the next pool (any run with the same TMPDIR) reclaims it.
  const auto r = run_command("TMPDIR=" + (dir / "tmp").string() + " " + gaincell_exe() + " -q sweep " + spec_600() +
                                 " -o again.h5 -j 1",
                             dir.path());
  CHECK(r.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(scratch));
}

TEST_CASE("a second run on the same output is refused before it touches the first one's files", "[ngspice][faults]") {
  TempDir dir;
  const auto out = dir / "o.h5";
  // A slow first run: 2 % of its points hang (point 0 does not: preflight passes).
  const std::string plan = "rate=0.02,seed=11,kinds=hang";
  REQUIRE(spice::fault_for(*spice::parse_fault_plan(plan), 0) == spice::InjectedFault::kNone);
  const int first = spawn({gaincell_exe(), "-q", "sweep", spec_600(), "-o", out.string(), "-j", "2", "--timeout", "1000"},
                          {std::string(spice::kFaultEnv) + "=" + plan});
  REQUIRE(wait_for([&] {
    std::error_code ec;
    // file_size reports static_cast<uintmax_t>(-1) with ec set while the file does not exist yet.
    const auto size = std::filesystem::file_size(out.string() + ".partial", ec);
    return std::filesystem::exists(out.string() + ".journal") && !ec && size > 0;
  }));
  const auto partial_before = std::filesystem::file_size(out.string() + ".partial");
  // The scenario: a --resume while the first still writes. Then a plain rerun, and a merge.
  for (const std::string extra : {" --resume", " --overwrite", ""}) {
    const auto r = run_command(gaincell_exe() + " -q sweep " + spec_600() + " -o " + out.string() + extra);
    INFO(extra << ": " << r.output);
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.output, Contains("error GC-1811") && Contains("pid " + std::to_string(first)));
  }
  // Nor can its working files be named as another run's output.
  for (const std::string working : {".partial", ".journal", ".lock"}) {
    const auto r = run_command(gaincell_exe() + " -q sweep " + spec_600() + " -o " + out.string() + working + " --overwrite");
    INFO(working << ": " << r.output);
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.output, Contains("error GC-1812") && Contains("working file"));
  }
  // A symbolic link to the output is the same output.
  std::filesystem::create_symlink(out, dir / "alias.h5");
  {
    const auto r = run_command(gaincell_exe() + " -q sweep " + spec_600() + " -o " + (dir / "alias.h5").string() + " --resume");
    INFO(r.output);
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.output, Contains("error GC-1811"));
  }
  // The first run's files were not truncated, and it is still running.
  CHECK(std::filesystem::file_size(out.string() + ".partial") >= partial_before);
  CHECK(::kill(first, 0) == 0);
  // Killed, its lock dies with it: --resume continues from its journal (faults off) and finishes.
  ::kill(first, SIGKILL);
  wait_exit(first);
  const auto r = run_command(gaincell_exe() + " -q sweep " + spec_600() + " -o " + out.string() + " --resume");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(out.string() + ".lock"));
  const auto got = store::read_results(out);
  CHECK(std::stoul(got.attributes.at("points_from_journal")) > 0);
  const auto clean = run_command(gaincell_exe() + " -q sweep " + spec_600() + " -o clean.h5", dir.path());
  REQUIRE(clean.exit_code == 0);
  require_same_data(store::read_results(dir / "clean.h5"), got);
}

TEST_CASE("outputs that exist and are not regular files are refused before any work", "[ngspice][faults]") {
  TempDir dir;
  REQUIRE(::mkfifo((dir / "fifo.h5").c_str(), 0600) == 0);
  std::filesystem::create_directories(dir / "adir.h5");
  for (const std::string target : {"fifo.h5", "adir.h5"}) {
    const auto r = run_command(gaincell_exe() + " -q sweep " + spec_600() + " -o " + target, dir.path());
    INFO(r.output);
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.output, Contains("error GC-1812") && Contains(target));
  }
  struct stat st {};
  REQUIRE(::stat((dir / "fifo.h5").c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));  // still a FIFO
  // A device (as root, rename(OUT.partial, /dev/null) once replaced it): refused
  // before anything is written. Checked without writing anywhere near /dev.
  CHECK_THROWS_WITH(check_output_file("/dev/null"), Contains("GC-1812") && Contains("a device"));
  CHECK_THROWS_WITH(read_text_file("/dev/zero"), Contains("GC-1813"));
  // Text outputs too: a model, a rendered netlist.
  const auto r = run_command(gaincell_exe() + " render " + spec_600() + " --point 0 -o fifo.h5", dir.path());
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.output, Contains("GC-1812"));
}
