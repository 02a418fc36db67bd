// SPDX-License-Identifier: MIT
// Helpers shared by the tests: paths into the source tree, temporary
// directories, running a command and capturing its output.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "gaincell/store/results_file.h"
#include "gaincell/sweep/spec.h"

namespace gaincell::testing {

std::filesystem::path source_dir();          // the repository
std::filesystem::path bin_dir();             // build/bin (gaincell, gaincell-worker)

// A fresh directory, removed with its contents when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Runs `command` with /bin/sh in `cwd`; never throws on a non-zero exit.
CommandResult run_command(const std::string& command, const std::filesystem::path& cwd = {});

void write_file(const std::filesystem::path& path, const std::string& text);

// Pids of running processes whose name (/proc/PID/comm, at most 15
// characters) starts with `prefix`; with `parent` > 0, only its children.
std::vector<int> processes_named(const std::string& prefix, int parent = 0);

// Pids of running processes whose environment holds GAINCELL_TEST_TAG=<tag>:
// a test starts its own programs with a tag of its own and looks only at
// those (never at other sweeps running on the machine).
std::vector<int> processes_tagged(const std::string& tag);

// Same values (NaN where NaN), same status, same messages (REQUIRE/CHECK).
void require_same_data(const store::Results& a, const store::Results& b);

// Starts args[0] (a path) with args as a child, its output discarded and
// `env` ("NAME=value") added to its environment; returns its pid.
int spawn(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

// Runs `spec` with 2 workers into `output`, requires that no point failed,
// and reads the results back.
store::Results sweep_all_ok(const sweep::SweepSpec& spec, const std::filesystem::path& output);

}  // namespace gaincell::testing
