// SPDX-License-Identifier: MIT
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "commands.h"

namespace gaincell::cli {
namespace {

using Clock = std::chrono::steady_clock;

std::string duration_text(double s) {
  if (s < 0) return "?";
  const long total = static_cast<long>(s + 0.5);
  char buf[32];
  if (total >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", total / 3600, (total / 60) % 60);
  } else if (total >= 60) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", total / 60, total % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lds", total);
  }
  return buf;
}

class TerminalReporter final : public Reporter {
 public:
  explicit TerminalReporter(bool quiet) : quiet_(quiet), is_tty_(::isatty(2) == 1) {}

  void info(const std::string& message) override {
    if (quiet_) return;
    clear_bar();
    std::fprintf(stderr, "%s\n", message.c_str());
  }
  void warning(const std::string& message) override {
    clear_bar();
    std::fprintf(stderr, "warning: %s\n", message.c_str());
  }
  void progress(const Progress& p) override {
    if (quiet_) return;
    const auto now = Clock::now();
    // A bar redraws at most 10 times a second; plain lines every 10 s.
    const auto gap = is_tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(10000);
    if (now - last_ < gap) return;
    last_ = now;
    draw(p);
  }
  void progress_done(const Progress& p) override {
    if (quiet_) return;
    draw(p);
    if (is_tty_) std::fprintf(stderr, "\n");
    bar_visible_ = false;
  }

 private:
  void draw(const Progress& p) {
    const double fraction = p.total == 0 ? 1.0 : static_cast<double>(p.done) / static_cast<double>(p.total);
    if (is_tty_) {
      constexpr int kWidth = 30;
      const int filled = static_cast<int>(fraction * kWidth);
      std::string bar(static_cast<std::size_t>(filled), '#');
      bar += std::string(static_cast<std::size_t>(kWidth - filled), '.');
      std::fprintf(stderr, "\r%s [%s] %zu/%zu %3.0f%%  failed %zu  elapsed %s  ETA %s   ", p.stage.c_str(),
                   bar.c_str(), p.done, p.total, 100.0 * fraction, p.failed, duration_text(p.elapsed_s).c_str(),
                   duration_text(p.done == p.total ? 0.0 : p.eta_s).c_str());
      bar_visible_ = true;
    } else {
      std::fprintf(stderr, "%s: %zu/%zu points (%.0f%%), %zu failed, elapsed %s, ETA %s\n", p.stage.c_str(), p.done,
                   p.total, 100.0 * fraction, p.failed, duration_text(p.elapsed_s).c_str(),
                   duration_text(p.done == p.total ? 0.0 : p.eta_s).c_str());
    }
    std::fflush(stderr);
  }
  void clear_bar() {
    if (bar_visible_) std::fprintf(stderr, "\n");
    bar_visible_ = false;
  }

  bool quiet_;
  bool is_tty_;
  bool bar_visible_ = false;
  Clock::time_point last_{};
};

}  // namespace

std::unique_ptr<Reporter> make_terminal_reporter(bool quiet) { return std::make_unique<TerminalReporter>(quiet); }

}  // namespace gaincell::cli
