// SPDX-License-Identifier: MIT
#include "gaincell/core/process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gaincell/core/error.h"

extern char** environ;

namespace gaincell {

int run_process(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  if (argv.empty()) throw IoError("run_process: no program");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (!log.empty()) {
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw IoError("cannot start " + argv[0] + ": " + std::strerror(rc));
  int status = 0;
  // Retry only when a signal interrupted the wait; any other error ends it.
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw IoError("waiting for " + argv[0] + ": " + std::strerror(errno));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace gaincell
