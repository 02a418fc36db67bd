// SPDX-License-Identifier: MIT
// File: gaincell/core/build_info.h
//
// What this build of gaincell is, for provenance attributes and `--version`.
//
//   std::cout << gaincell::build_info().version << " (" << gaincell::build_info().git_sha << ")";
#pragma once

#include <filesystem>
#include <string>

namespace gaincell {

struct BuildInfo {
  std::string version;        // e.g. "0.1.0"
  std::string git_sha;        // short commit of the source tree at configure time, or "unknown"
  std::string ngspice_path;   // libngspice the worker loads
  std::string build_bin_dir;  // where the build tree puts executables
  std::string libexec_dir;    // where `make install` puts gaincell-worker
  std::string source_dir;     // source tree at configure time (netlists/, characterization/)
  std::string data_dir;       // installed netlists/ and characterization/
};

const BuildInfo& build_info();

// The gaincell-worker executable: $GAINCELL_WORKER if set, else next to the
// running program, else the build tree, else the install libexec dir.
// Throws IoError listing the places searched when none exists.
std::filesystem::path find_worker_executable();

// The directory holding the Python package gaincell (the one to put on
// PYTHONPATH): the build tree's python/ beside the running program's bin/, else
// the build tree it was built in, else where `cmake --install` puts it; "" when
// none holds gaincell/__init__.py (a build without GAINCELL_PYTHON).
std::filesystem::path find_python_package_dir();

// A shipped file (e.g. "netlists/cells/pushpull.sub"): `path` itself if it
// exists (absolute, or relative to the current directory), else under the
// source tree, else under the installed data dir. Returns `path` unchanged if
// none exists, so the caller's error names what the user asked for.
std::filesystem::path find_data_file(const std::filesystem::path& path);
// A file of gaincell's own tree (`relative`, e.g. "netlists/cells/x.sub") in
// the source tree, else in the installed data directory; "" if in neither.
// Unlike find_data_file, never resolved against the working directory.
std::filesystem::path find_shipped_file(const std::filesystem::path& relative);

}  // namespace gaincell
