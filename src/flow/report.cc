// SPDX-License-Identifier: MIT
#include "gaincell/flow/report.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/process.h"

namespace gaincell::flow {

namespace fs = std::filesystem;

void write_report(const fs::path& dir, const fs::path& output, bool quiet) {
  const fs::path script = find_data_file("tools/report.py");
  std::error_code ec;
  if (!fs::exists(script, ec)) throw IoError("cannot find tools/report.py (source tree or installed data)");
  if (!fs::is_directory(dir, ec)) {
    throw InputError("GC-1902", "report: " + dir.string() + " is not a directory (give a gaincell flow -o directory)");
  }
  // The report evaluates the fitted models with the gaincell Python package.
  std::vector<std::string> env;
  if (const fs::path py = find_python_package_dir(); !py.empty()) {
    const char* old = std::getenv("PYTHONPATH");
    std::string path = "PYTHONPATH=" + py.string();
    if (old != nullptr && *old != '\0') {  // appended apart: gcc 12's -Wrestrict misreads ":" + string (PR 105329)
      path += ':';
      path += old;
    }
    env.push_back(path);
  }
  std::vector<std::string> argv = {"/usr/bin/python3", script.string(), dir.string(), "-o", output.string()};
  if (quiet) argv.push_back("-q");
  int rc = 0;
  try {
    rc = run_process(argv, {}, env);
  } catch (const IoError&) {
    throw IoError("cannot run /usr/bin/python3 (Debian python3 with python3-matplotlib is needed for reports)");
  }
  if (rc != 0) throw IoError("report: tools/report.py failed (exit " + std::to_string(rc) + ")");
}

}  // namespace gaincell::flow
