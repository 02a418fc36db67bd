// SPDX-License-Identifier: MIT
#include "gaincell/spice/worker_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/spice/protocol.h"
#include "gaincell/spice/worker.h"

namespace gaincell::spice {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kLogTailBytes = 8192;

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::string signal_description(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = ::strsignal(sig);
    return "killed by signal " + std::to_string(sig) + " (" + (name ? name : "?") + ")";
  }
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "stopped (status " + std::to_string(status) + ")";
}

}  // namespace

struct WorkerPool::Worker {
  pid_t pid = -1;
  int socket = -1;  // jobs out, results in
  int log = -1;     // the worker's stdout+stderr
  std::filesystem::path dir;
  protocol::FrameBuffer frames;
  std::string log_tail;
  bool has_hello = false;
  std::optional<std::uint64_t> current;  // job id being simulated
  Clock::time_point started;
  Clock::time_point deadline;
  std::size_t points = 0;
  bool alive() const { return pid > 0; }
};

WorkerPool::WorkerPool(PoolOptions options) : options_(std::move(options)) {
  if (options_.jobs < 0) {
    throw InputError("GC-1301", "Invalid configuration. jobs = " + std::to_string(options_.jobs) +
                                    ". Violated constraint: jobs >= 0 (0 = one per core)");
  }
  jobs_ = options_.jobs > 0 ? options_.jobs
                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (options_.ngspice_library.empty()) options_.ngspice_library = build_info().ngspice_path;
  worker_exe_ = options_.worker.empty() ? find_worker_executable() : options_.worker;
  std::filesystem::path base = options_.scratch_dir;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string pattern = (base / "gaincell-pool-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw IoError("cannot create a scratch directory under " + base.string() + ": " + std::strerror(errno));
  }
  scratch_ = pattern;
  for (int i = 0; i < jobs_; ++i) workers_.push_back(std::make_unique<Worker>());
}

WorkerPool::~WorkerPool() {
  for (auto& w : workers_) {
    if (w->alive()) retire(*w, /*kill_it=*/true);
  }
  std::error_code ec;
  std::filesystem::remove_all(scratch_, ec);
}

void WorkerPool::shutdown() {
  for (auto& w : workers_) {
    if (w->alive()) retire(*w, /*kill_it=*/false);
  }
}

std::vector<pid_t> WorkerPool::worker_pids() const {
  std::vector<pid_t> pids;
  for (const auto& w : workers_) {
    if (w->alive()) pids.push_back(w->pid);
  }
  return pids;
}

void WorkerPool::spawn(Worker& w) {
  w = Worker{};
  w.dir = scratch_ / ("w" + std::to_string(next_worker_serial_++));
  std::filesystem::create_directories(w.dir);
  {
    std::ofstream init(w.dir / ".spiceinit");
    init << worker_spiceinit();
    if (!init) throw IoError("cannot write " + (w.dir / ".spiceinit").string());
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    throw IoError(std::string("socketpair: ") + std::strerror(errno));
  }
  int log_pipe[2];
  if (::pipe2(log_pipe, O_CLOEXEC) != 0) {
    ::close(sv[0]);
    ::close(sv[1]);
    throw IoError(std::string("pipe: ") + std::strerror(errno));
  }
  const std::string exe = worker_exe_.string();
  const std::string dir = w.dir.string();
  const std::string library = options_.ngspice_library;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(sv[0]);
    ::close(sv[1]);
    ::close(log_pipe[0]);
    ::close(log_pipe[1]);
    throw IoError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec. fd 3 = socket,
    // stdout/stderr = log pipe, stdin = /dev/null; everything else is closed
    // so the worker cannot touch the parent's HDF5 file.
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(log_pipe[1], 1);
    ::dup2(log_pipe[1], 2);
    ::dup2(sv[1], 3);
    ::close_range(4, ~0U, 0);
    char fd_arg[] = "3";
    char* argv[] = {const_cast<char*>(exe.c_str()), const_cast<char*>("--socket-fd"), fd_arg,
                    const_cast<char*>("--dir"), const_cast<char*>(dir.c_str()),
                    const_cast<char*>("--ngspice"), const_cast<char*>(library.c_str()), nullptr};
    ::execv(exe.c_str(), argv);
    const char msg[] = "gaincell-worker: exec failed\n";
    [[maybe_unused]] ssize_t n = ::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  ::close(sv[1]);
  ::close(log_pipe[1]);
  w.pid = pid;
  w.socket = sv[0];
  w.log = log_pipe[0];
  ::fcntl(w.log, F_SETFL, ::fcntl(w.log, F_GETFL) | O_NONBLOCK);
  ++stats_.spawned;
}

int WorkerPool::retire(Worker& w, bool kill_it) {
  if (!w.alive()) return 0;
  if (kill_it) {
    ::kill(w.pid, SIGKILL);
  } else {
    protocol::write_frame(w.socket, {{"type", "quit"}});
  }
  close_fd(w.socket);
  close_fd(w.log);
  int status = 0;
  while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::error_code ec;
  std::filesystem::remove_all(w.dir, ec);
  w.pid = -1;
  w.current.reset();
  return status;
}

void WorkerPool::read_hello(Worker& w) {
  // Blocks until the new worker says hello (library loaded) or dies.
  auto hello = protocol::read_frame(w.socket);
  if (!hello || hello->at("type") != "hello") {
    std::string why = hello && hello->contains("message") ? hello->at("message").get<std::string>() : "";
    char buf[4096];
    ssize_t n;
    while ((n = ::read(w.log, buf, sizeof buf)) > 0) why.append(buf, static_cast<std::size_t>(n));
    retire(w, true);
    throw IoError("gaincell-worker (" + worker_exe_.string() + ") could not start: " +
                  (why.empty() ? std::string("no message") : why));
  }
  w.has_hello = true;
  if (ngspice_version_.empty()) ngspice_version_ = hello->at("ngspice_version").get<std::string>();
}

std::string WorkerPool::ngspice_version() {
  if (ngspice_version_.empty()) {
    Worker& w = *workers_.front();
    if (!w.alive()) spawn(w);
    if (!w.has_hello) read_hello(w);
  }
  return ngspice_version_;
}

void WorkerPool::run(std::size_t count, const std::function<SimJob(std::size_t)>& make_job,
                     const std::function<void(SimResult&&)>& on_result) {
  std::size_t next = 0;
  std::size_t outstanding = 0;
  std::vector<std::optional<SimJob>> in_flight(workers_.size());

  auto finish = [&](std::size_t slot, Clock::time_point started, SimResult&& r) {
    r.wall_time_s = std::chrono::duration<double>(Clock::now() - started).count();
    in_flight[slot].reset();
    --outstanding;
    on_result(std::move(r));
  };
  // Reaps a worker that died or must die, and records its point (if any) as
  // failed with whatever the worker printed last: often ngspice's last words.
  auto lose_worker = [&](std::size_t slot, SimOutcome outcome, const std::string& why) {
    Worker& w = *workers_[slot];
    char buf[4096];
    ssize_t n;
    while (w.log >= 0 && (n = ::read(w.log, buf, sizeof buf)) > 0) {
      w.log_tail.append(buf, static_cast<std::size_t>(n));
    }
    const std::optional<std::uint64_t> job_id = w.current;
    const pid_t pid = w.pid;
    const auto started = w.started;
    const std::string tail = w.log_tail;
    const int status = retire(w, /*kill_it=*/true);
    if (!job_id) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 3) ++stats_.poisoned;
      return;
    }
    SimResult r;
    r.id = *job_id;
    r.worker_pid = pid;
    r.outcome = outcome;
    r.message = why;
    if (outcome == SimOutcome::kCrash) {
      ++stats_.crashed;
      r.message = "worker pid " + std::to_string(pid) + " " + signal_description(status) +
                  " while simulating point " + std::to_string(*job_id);
    }
    if (!tail.empty()) r.message += "\nlast output:\n" + tail;
    if (in_flight[slot]) r.values.assign(in_flight[slot]->measures.size(), std::nan(""));
    finish(slot, started, std::move(r));
  };

  while (next < count || outstanding > 0) {
    // Hand a job to every idle worker.
    for (std::size_t i = 0; i < workers_.size() && next < count; ++i) {
      Worker& w = *workers_[i];
      if (w.current) continue;
      if (!w.alive()) {
        spawn(w);
        read_hello(w);
      }
      SimJob job = make_job(next++);
      w.current = job.id;
      w.started = Clock::now();
      w.deadline = w.started + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(std::max(job.timeout_s, 0.001)));
      w.log_tail.clear();
      in_flight[i] = std::move(job);
      ++outstanding;
      ++w.points;
      if (!protocol::write_frame(w.socket, protocol::job_to_json(*in_flight[i]))) {
        lose_worker(i, SimOutcome::kCrash, "");
      }
    }
    if (outstanding == 0) continue;

    // Wait for results, log output or the nearest deadline.
    std::vector<pollfd> fds;
    std::vector<std::pair<std::size_t, bool>> owner;  // (worker, is_socket)
    auto nearest = Clock::time_point::max();
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      Worker& w = *workers_[i];
      if (!w.alive()) continue;
      fds.push_back({w.socket, POLLIN, 0});
      owner.emplace_back(i, true);
      if (w.log >= 0) {
        fds.push_back({w.log, POLLIN, 0});
        owner.emplace_back(i, false);
      }
      if (w.current) nearest = std::min(nearest, w.deadline);
    }
    int wait_ms = 1000;
    if (nearest != Clock::time_point::max()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(nearest - Clock::now()).count();
      wait_ms = static_cast<int>(std::clamp<long long>(left + 1, 0, 1000));
    }
    const int ready = ::poll(fds.data(), fds.size(), wait_ms);
    if (ready < 0 && errno != EINTR) throw IoError(std::string("poll: ") + std::strerror(errno));

    for (std::size_t k = 0; ready > 0 && k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      const auto [i, is_socket] = owner[k];
      Worker& w = *workers_[i];
      if (!w.alive()) continue;
      char buf[65536];
      if (!is_socket) {
        if (w.log < 0) continue;
        const ssize_t n = ::read(w.log, buf, sizeof buf);
        if (n > 0) {
          w.log_tail.append(buf, static_cast<std::size_t>(n));
          if (w.log_tail.size() > kLogTailBytes) w.log_tail.erase(0, w.log_tail.size() - kLogTailBytes);
        } else if (n == 0) {
          close_fd(w.log);
        }
        continue;
      }
      const ssize_t n = ::read(w.socket, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        // The socket closed: the worker is gone (crash, exit, external kill).
        lose_worker(i, SimOutcome::kCrash, "");
        continue;
      }
      w.frames.append(buf, static_cast<std::size_t>(n));
      while (auto msg = w.frames.next()) {
        if (msg->at("type") != "result") continue;
        SimResult r = protocol::result_from_json(*msg);
        const bool poisoned = r.outcome == SimOutcome::kControlledExit;
        w.current.reset();
        finish(i, w.started, std::move(r));
        if (poisoned) {
          // The library is unusable; the worker exits by itself. Replace it.
          ++stats_.poisoned;
          retire(w, true);
          break;
        }
        if (options_.recycle_after > 0 && w.points >= options_.recycle_after) {
          ++stats_.recycled;
          retire(w, false);
          break;
        }
      }
    }

    // Points over their budget: kill the worker (bg_halt cannot stop a
    // Newton solve that never returns; only SIGKILL is a guarantee).
    const auto now = Clock::now();
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      Worker& w = *workers_[i];
      if (w.alive() && w.current && now >= w.deadline) {
        ++stats_.timed_out;
        const double budget = in_flight[i] ? in_flight[i]->timeout_s : 0.0;
        char text[64];
        std::snprintf(text, sizeof text, "%g", budget);
        lose_worker(i, SimOutcome::kTimeout,
                    "point " + std::to_string(*w.current) + " exceeded its timeout of " + text +
                        " s; worker pid " + std::to_string(w.pid) + " was killed");
      }
    }
  }
}

}  // namespace gaincell::spice
