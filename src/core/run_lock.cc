// SPDX-License-Identifier: MIT
#include "gaincell/core/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "gaincell/core/error.h"
#include "gaincell/core/process.h"

namespace gaincell {
namespace {

std::string holder_of(int fd) {
  char buf[256] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string s = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.empty() ? "another gaincell" : s;
}

// The file a path names after its symbolic links: a run on a link and a run
// on its target take the same lock.
std::filesystem::path resolved(std::filesystem::path p) {
  for (int hops = 0; hops < 40; ++hops) {
    std::error_code ec;
    if (!std::filesystem::is_symlink(p, ec)) break;
    const std::filesystem::path target = std::filesystem::read_symlink(p, ec);
    if (ec) break;
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  return p.lexically_normal();
}

}  // namespace

RunLock::RunLock(const std::filesystem::path& output) : path_(resolved(output).string() + ".lock") {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) throw IoError("cannot open the lock file " + path_.string() + ": " + std::strerror(errno));
    struct stat st{};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw InputError("GC-1812", path_.string() + " exists and is not a regular file; gaincell "
                                      "uses it to lock " + output.string());
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const std::string who = holder_of(fd);
      ::close(fd);
      throw InputError("GC-1811", output.string() + " is being written by " + who +
                                      " (it holds " + path_.string() + "); wait for it to finish, or stop it, before "
                                      "running on the same output");
    }
    // The holder before us may have removed the file between our open and
    // our lock: then we hold a lock on a name nobody sees. Retry.
    struct stat now{};
    if (::stat(path_.c_str(), &now) != 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
      ::close(fd);
      continue;
    }
    const std::string me = "pid " + std::to_string(::getpid()) + " on " + host_name() + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
      // The lock holds without the note; only the message would be vaguer.
    }
    fd_ = fd;
    return;
  }
  throw IoError("cannot lock " + path_.string() + ": it keeps being replaced");
}

RunLock::~RunLock() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still holding it: a waiting run retries on a fresh file
  ::close(fd_);
}

}  // namespace gaincell
