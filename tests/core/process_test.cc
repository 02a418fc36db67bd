// SPDX-License-Identifier: MIT
// Child processes: exit statuses, logs, environment, captured output, and a
// wait that fails cleanly (ECHILD) instead of spinning.
#include "gaincell/core/process.h"

#include <csignal>

#include <catch2/catch.hpp>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "test_support.h"

using namespace gaincell;

TEST_CASE("run_process returns the exit status, and a log takes stdout and stderr", "[unit][core]") {
  testing::TempDir dir;
  CHECK(run_process({"/bin/sh", "-c", "exit 3"}) == 3);
  CHECK(run_process({"/bin/sh", "-c", "kill -TERM $$"}) == 128 + SIGTERM);
  CHECK(run_process({"/bin/sh", "-c", "echo out; echo err >&2"}, dir / "log") == 0);
  CHECK(read_text_file(dir / "log") == "out\nerr\n");
  CHECK_THROWS_WITH(run_process({"/nonexistent/program"}), "cannot start /nonexistent/program: No such file or directory");
}

TEST_CASE("run_process replaces or adds environment entries for the child only", "[unit][core]") {
  testing::TempDir dir;
  ::setenv("GAINCELL_PROCESS_TEST", "ours", 1);
  CHECK(run_process({"/bin/sh", "-c", "echo \"$GAINCELL_PROCESS_TEST $GAINCELL_PROCESS_NEW $HOME\""}, dir / "log",
                    {"GAINCELL_PROCESS_TEST=child", "GAINCELL_PROCESS_NEW=added"}) == 0);
  CHECK(read_text_file(dir / "log") == std::string("child added ") + std::getenv("HOME") + "\n");
  CHECK(std::string(std::getenv("GAINCELL_PROCESS_TEST")) == "ours");
  ::unsetenv("GAINCELL_PROCESS_TEST");
}

TEST_CASE("capture_process finds the program on PATH and returns its output", "[unit][core]") {
  const auto [rc, out] = capture_process({"sh", "-c", "echo out; echo err >&2; exit 2"});
  CHECK(rc == 2);
  CHECK(out == "out\nerr\n");
  CHECK_THROWS_WITH(capture_process({"gaincell-no-such-program"}),
                    "cannot start gaincell-no-such-program: No such file or directory");
}

TEST_CASE("a wait that fails other than by a signal is an error, not a loop", "[unit][core]") {
  // With SIGCHLD ignored the kernel reaps children itself: waitpid then fails
  // with ECHILD once the child is gone. Retrying that (rather than only EINTR)
  // would spin forever.
  struct sigaction ignore {}, old{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  REQUIRE(::sigaction(SIGCHLD, &ignore, &old) == 0);
  std::string what;
  try {
    run_process({"/bin/true"});
  } catch (const IoError& e) {
    what = e.what();
  }
  REQUIRE(::sigaction(SIGCHLD, &old, nullptr) == 0);
  CHECK(what == "waiting for /bin/true: No child processes");
}
