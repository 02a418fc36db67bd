// SPDX-License-Identifier: MIT
// File: gaincell/core/run_lock.h
//
// One writer per output. A run that writes OUT (a sweep, a merge) first takes
// an exclusive lock on OUT.lock and holds it until it ends; a second run on
// the same OUT is refused before it touches any file (GC-1811), so it cannot
// truncate the first one's OUT.partial or journal. The lock is flock(2): the
// kernel drops it when the holder dies, so a killed run never blocks the
// next. The file holds the holder's pid and host, for the message.
//
//   gaincell::RunLock lock(out);   // throws InputError GC-1811 if held
//   ... write out.partial, publish out ...
//   // ~RunLock removes OUT.lock and releases it
#pragma once

#include <filesystem>

namespace gaincell {

class RunLock {
 public:
  explicit RunLock(const std::filesystem::path& output);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace gaincell
