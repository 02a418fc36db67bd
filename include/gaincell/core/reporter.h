// SPDX-License-Identifier: MIT
// File: gaincell/core/reporter.h
//
// The library never writes to stdout/stderr itself: it reports through a
// `Reporter` sink (as OpenSTA's Report). The CLI installs a terminal reporter
// (progress bar on a TTY, periodic lines otherwise); tests install a
// capturing one; `NullReporter` drops everything.
//
//   gaincell::CapturingReporter rep;
//   gaincell::sweep::run_sweep(spec, options, rep);
//   for (const auto& line : rep.lines()) std::cout << line << "\n";
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace gaincell {

// Progress of a long run: `done` of `total` units finished, `failed` of them
// failed, `elapsed_s` since start, `eta_s` estimated seconds left (< 0: unknown).
struct Progress {
  std::string stage;  // e.g. "sweep pushpull_multiply"
  std::size_t done = 0;
  std::size_t total = 0;
  std::size_t failed = 0;
  double elapsed_s = 0.0;
  double eta_s = -1.0;
};

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void info(const std::string& message) = 0;
  virtual void warning(const std::string& message) = 0;
  // Called often (every finished unit); implementations rate-limit output.
  virtual void progress(const Progress& progress) = 0;
  // Called once when the stage is over, so a bar can be completed.
  virtual void progress_done(const Progress& progress) = 0;
};

class NullReporter final : public Reporter {
 public:
  void info(const std::string&) override {}
  void warning(const std::string&) override {}
  void progress(const Progress&) override {}
  void progress_done(const Progress&) override {}
};

// Keeps every message (with "info: " / "warning: " prefixes) for inspection.
class CapturingReporter final : public Reporter {
 public:
  void info(const std::string& message) override;
  void warning(const std::string& message) override;
  void progress(const Progress& progress) override;
  void progress_done(const Progress& progress) override;
  const std::vector<std::string>& lines() const { return lines_; }
  std::size_t progress_calls() const { return progress_calls_; }

 private:
  std::vector<std::string> lines_;
  std::size_t progress_calls_ = 0;
};

}  // namespace gaincell
