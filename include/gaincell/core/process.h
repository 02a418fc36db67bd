// SPDX-License-Identifier: MIT
// File: gaincell/core/process.h
//
// Runs a program as a child process and waits for it: the flow's stages and
// the report's Python script.
//
//   int rc = run_process({"/usr/bin/python3", "tools/report.py", "out/flow"}, "out/flow/logs/report.log");
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace gaincell {

// Runs argv[0] (a path) with argv and waits. With a `log`, its stdout and
// stderr go to that file (truncated); else they are ours. Returns the exit
// status, or 128 + the signal that killed it. Throws IoError if it cannot start.
int run_process(const std::vector<std::string>& argv, const std::filesystem::path& log = {});

// This machine's name (gethostname), or "unknown".
std::string host_name();

}  // namespace gaincell
