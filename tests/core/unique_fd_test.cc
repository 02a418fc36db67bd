// SPDX-License-Identifier: MIT
// UniqueFd: one owner, closed exactly once. A pipe shows it: its read end
// sees EOF only when the last write end is closed.
#include "gaincell/core/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <utility>

#include <catch2/catch.hpp>

using gaincell::UniqueFd;

namespace {

// The read end of a new pipe, and its write end owned by `writer`.
int pipe_into(UniqueFd& writer) {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
  writer.reset(fds[1]);
  return fds[0];
}

// Reading the pipe: 0 at EOF (every write end closed), -1 (EAGAIN) while one is open.
ssize_t read_once(int fd) {
  char c;
  return ::read(fd, &c, 1);
}

}  // namespace

TEST_CASE("UniqueFd closes its descriptor once, when its last owner goes", "[unit][core]") {
  UniqueFd outer;
  const int reader = pipe_into(outer);
  {
    UniqueFd moved(std::move(outer));
    CHECK_FALSE(outer.valid());
    CHECK(moved.valid());
    CHECK(read_once(reader) == -1);  // the write end is open: no EOF yet
    UniqueFd assigned;
    assigned = std::move(moved);
    CHECK_FALSE(moved);
    CHECK(read_once(reader) == -1);
  }
  CHECK(read_once(reader) == 0);  // the scope closed it: EOF

  UniqueFd kept;
  const int reader2 = pipe_into(kept);
  const int raw = kept.release();
  CHECK_FALSE(kept.valid());
  CHECK(read_once(reader2) == -1);  // released, not closed
  ::close(raw);
  CHECK(read_once(reader2) == 0);
  ::close(reader);
  ::close(reader2);
}
