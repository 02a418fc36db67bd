// SPDX-License-Identifier: MIT
// File: gaincell/core/process.h
//
// Runs a program as a child process and waits for it: the flow's stages,
// the report's Python script, Slurm's clients.
//
//   int rc = run_process({"/usr/bin/python3", "tools/report.py", "out/flow"}, "out/flow/logs/report.log");
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace gaincell {

// Runs argv[0] (a path) with argv and waits. With a `log`, its stdout and
// stderr go to that file (truncated); else they are ours. `env` entries
// ("NAME=value") replace or add to the environment it inherits. Returns the
// exit status, or 128 + the signal that killed it. Throws IoError if it
// cannot start, or if waiting for it fails other than by a signal (EINTR
// is retried; ECHILD, a child already reaped elsewhere, is an error).
int run_process(const std::vector<std::string>& argv, const std::filesystem::path& log = {},
                const std::vector<std::string>& env = {});

// Runs `argv` (argv[0] looked up on PATH) with its stdout and stderr
// captured together; returns (exit status as run_process's, the output).
// Throws IoError "cannot start ..." or as run_process when waiting fails.
std::pair<int, std::string> capture_process(const std::vector<std::string>& argv);

// This machine's name (gethostname), or "unknown".
std::string host_name();

}  // namespace gaincell
