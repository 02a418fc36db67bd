// SPDX-License-Identifier: MIT
#include "gaincell/core/process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "gaincell/core/error.h"
#include "gaincell/core/unique_fd.h"

extern char** environ;

namespace gaincell {
namespace {

// Our environment with `overrides` ("NAME=value") replacing or adding entries.
std::vector<std::string> child_environment(const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  const auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const bool replaced = std::any_of(overrides.begin(), overrides.end(),
                                      [&](const std::string& o) { return name_of(o) == name_of(entry); });
    if (!replaced) env.push_back(entry);
  }
  env.insert(env.end(), overrides.begin(), overrides.end());
  return env;
}

// NULL-terminated pointers into `strings` (which must outlive them), as exec takes them.
std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// The descriptor plumbing of a child: what posix_spawn does before exec.
class SpawnActions {
 public:
  SpawnActions() { posix_spawn_file_actions_init(&actions_); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

// Starts argv[0] (a path, or with `search_path` a name looked up on PATH).
// Throws IoError "cannot start ...".
pid_t spawn(const std::vector<std::string>& argv, SpawnActions& actions, bool search_path,
            const std::vector<std::string>& env) {
  if (argv.empty()) throw IoError("run_process: no program");
  std::vector<char*> args = c_strings(argv);
  const std::vector<std::string> child_env = env.empty() ? std::vector<std::string>{} : child_environment(env);
  std::vector<char*> envp = c_strings(child_env);
  char** const use_env = env.empty() ? environ : envp.data();
  pid_t pid = 0;
  const int rc = search_path ? posix_spawnp(&pid, args[0], actions.get(), nullptr, args.data(), use_env)
                             : posix_spawn(&pid, args[0], actions.get(), nullptr, args.data(), use_env);
  if (rc != 0) throw IoError("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

// Waits for the child; its exit status, or 128 + the signal that killed it.
int wait_for(pid_t pid, const std::string& program) {
  int status = 0;
  // Retry only when a signal interrupted the wait; any other error (ECHILD:
  // the child was reaped elsewhere) ends it rather than spinning forever.
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw IoError("waiting for " + program + ": " + std::strerror(errno));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      return out;
    }
  }
}

}  // namespace

int run_process(const std::vector<std::string>& argv, const std::filesystem::path& log,
                const std::vector<std::string>& env) {
  SpawnActions actions;
  if (!log.empty()) {
    posix_spawn_file_actions_addopen(actions.get(), 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(actions.get(), 1, 2);
  }
  const pid_t pid = spawn(argv, actions, false, env);
  return wait_for(pid, argv[0]);
}

std::pair<int, std::string> capture_process(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw IoError("cannot create a pipe to run " + argv.at(0));
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  SpawnActions actions;
  posix_spawn_file_actions_adddup2(actions.get(), write_end.get(), 1);
  posix_spawn_file_actions_adddup2(actions.get(), write_end.get(), 2);
  const pid_t pid = spawn(argv, actions, true, {});
  write_end.reset();  // else the read below never sees the end
  std::string out = read_all(read_end.get());
  read_end.reset();
  return {wait_for(pid, argv[0]), std::move(out)};
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace gaincell
