// SPDX-License-Identifier: MIT
#include "gaincell/core/reporter.h"

namespace gaincell {

void CapturingReporter::info(const std::string& message) { lines_.push_back("info: " + message); }
void CapturingReporter::warning(const std::string& message) {
  lines_.push_back("warning: " + message);
}
void CapturingReporter::progress(const Progress&) { ++progress_calls_; }
void CapturingReporter::progress_done(const Progress& p) {
  lines_.push_back("done: " + p.stage + " " + std::to_string(p.done) + "/" +
                   std::to_string(p.total));
}

}  // namespace gaincell
