// SPDX-License-Identifier: MIT
// File: gaincell/core/unique_fd.h
//
// A POSIX file descriptor with exactly one owner (fmt's `file` is the model):
// closed by the destructor, moved but never copied, so no path through the
// code leaks it or closes it twice.
//
//   UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
//   if (!fd) throw IoError("cannot open " + path);
//   ::read(fd.get(), buf, n);  // closed when fd goes out of scope
#pragma once

#include <unistd.h>

#include <utility>

namespace gaincell {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }
  // Gives the descriptor up without closing it.
  int release() noexcept { return std::exchange(fd_, -1); }
  // Closes the descriptor held (if any), then holds `fd`. close(2) errors are
  // ignored: the descriptor is gone either way, and nothing written is lost
  // that an fsync/fdatasync before it would not have reported.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace gaincell
