// SPDX-License-Identifier: MIT
// File: gaincell/flow/report.h
//
// The page a designer reads (docs/flow.md): one self-contained HTML file of a
// flow directory, drawn by tools/report.py with matplotlib. The script
// evaluates the flow's fitted models through the gaincell Python package,
// which it finds on PYTHONPATH.
//
//   flow::write_report("out/flow", "out/flow/report.html", /*quiet=*/true);
#pragma once

#include <filesystem>

namespace gaincell::flow {

// Runs /usr/bin/python3 tools/report.py DIR -o OUTPUT (-q when `quiet`),
// with the gaincell Python package put first on its PYTHONPATH. Throws
// InputError GC-1902 if `dir` is not a directory; IoError if the script is
// not in the source tree or data directory, python3 cannot be started, or
// the script fails.
void write_report(const std::filesystem::path& dir, const std::filesystem::path& output, bool quiet);

}  // namespace gaincell::flow
