// SPDX-License-Identifier: MIT
#include "gaincell/spice/worker_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
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
#include <deque>
#include <fstream>
#include <optional>
#include <thread>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/limits.h"
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

namespace {

void reclaim_stale_scratch(const std::filesystem::path& base) {
  // gaincell-pool-<pid>-XXXXXX of a driver that no longer runs, and of our user.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(base, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("gaincell-pool-", 0) != 0) continue;
    const std::string rest = name.substr(14);
    const auto dash = rest.find('-');
    if (dash == std::string::npos || dash == 0 || rest.find_first_not_of("0123456789") < dash) continue;
    const std::string pid = rest.substr(0, dash);
    struct stat st{};
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid()) continue;
    if (std::filesystem::exists("/proc/" + pid, ec)) continue;  // alive (or its pid reused: leave it)
    std::filesystem::remove_all(entry.path(), ec);
  }
}

}  // namespace

struct WorkerPool::Worker {
  pid_t pid = -1;
  int socket = -1;  // jobs out, results in
  int log = -1;     // the worker's stdout+stderr
  std::filesystem::path dir;
  protocol::FrameBuffer frames;
  std::string log_tail;
  // Bytes of jobs not yet taken by the socket. The driver never blocks
  // writing: a worker blocked writing a large result must be read first.
  std::string outbox;
  bool has_hello = false;
  // Jobs sent and not yet answered, in order; the front one is running, the
  // others wait in the socket so the worker never idles while we store and render.
  std::deque<SimJob> queue;
  Clock::time_point started;   // when the front job started
  Clock::time_point deadline;  // when the front job times out
  std::size_t sent = 0;        // jobs sent to this process
  bool alive() const { return pid > 0; }
  bool busy() const { return !queue.empty(); }
};

WorkerPool::WorkerPool(PoolOptions options) : options_(std::move(options)) {
  if (options_.jobs < 0 || options_.jobs > limits::kMaxJobs) {
    throw InputError("GC-1301", "error GC-1301: " + std::to_string(options_.jobs) + " workers: expected 0 (one per core) to " +
                                    std::to_string(limits::kMaxJobs) + " (limits::kMaxJobs, docs/cli.md#limits)");
  }
  // The callers check the lines where the user wrote them (spec, card); this
  // keeps any other caller from handing a worker a command.
  for (std::size_t k = 0; k < options_.ngspice_init.size(); ++k) {
    const InitLineCheck c = check_init_line(options_.ngspice_init[k]);
    if (!c.ok()) {
      throw InputError(c.id, "error " + c.id + ": ngspice_init[" + std::to_string(k) + "]: " + c.message + "\n  hint: " + c.hint);
    }
    options_.ngspice_init[k] = c.line;
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
  reclaim_stale_scratch(base);
  // The driver's pid in the name: a later pool can tell a killed driver's leftovers.
  std::string pattern = (base / ("gaincell-pool-" + std::to_string(::getpid()) + "-XXXXXX")).string();
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

void WorkerPool::start() {
  for (auto& w : workers_) {
    if (!w->alive()) spawn(*w);
  }
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
    init << worker_spiceinit(options_.ngspice_init);
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
  const pid_t driver = ::getpid();
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
    // Own process group: a terminal's Ctrl-C reaches the driver, which stops
    // the workers itself and keeps what they finished.
    ::setpgid(0, 0);
    // Die with the driver, even a SIGKILLed one: no orphan keeps a core busy.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != driver) ::_exit(1);  // the driver died before prctl
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
  ::fcntl(w.socket, F_SETFL, ::fcntl(w.socket, F_GETFL) | O_NONBLOCK);
  ++stats_.spawned;
}

int WorkerPool::retire(Worker& w, bool kill_it) {
  if (!w.alive()) return 0;
  if (kill_it) {
    ::kill(w.pid, SIGKILL);
  } else if (!w.outbox.empty() || !flush_outbox(w, protocol::encode_frame({{"type", "quit"}}))) {
    ::kill(w.pid, SIGKILL);  // it cannot take the quit now: it has nothing left to do for us
  }
  close_fd(w.socket);
  close_fd(w.log);
  int status = 0;
  while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::error_code ec;
  std::filesystem::remove_all(w.dir, ec);
  w.pid = -1;
  return status;
}

void WorkerPool::startup_failure(Worker& w, std::string why) {
  // The worker may have said why before it died (a "fatal" frame) while we
  // were writing it a job: read what is left in its socket first.
  if (why.empty() && w.socket >= 0) {
    char buf[4096];
    for (int waited_ms = 0; waited_ms < 2000;) {
      pollfd p{w.socket, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) {
        waited_ms += 100;
        continue;
      }
      const ssize_t n = ::read(w.socket, buf, sizeof buf);
      if (n <= 0) break;
      w.frames.append(buf, static_cast<std::size_t>(n));
    }
    while (auto msg = w.frames.next()) {
      if (msg->value("type", "") == "fatal" && msg->contains("message")) why = msg->at("message").get<std::string>();
    }
  }
  // Blocking reads are fine here: the worker is dead or about to be killed.
  ::fcntl(w.log, F_SETFL, ::fcntl(w.log, F_GETFL) & ~O_NONBLOCK);
  retire_log_into(w, &why);
  retire(w, true);
  throw IoError("gaincell-worker (" + worker_exe_.string() + ") could not start: " +
                (why.empty() ? std::string("no message") : why));
}

void WorkerPool::retire_log_into(Worker& w, std::string* text) {
  *text += w.log_tail;
  char buf[4096];
  ssize_t n;
  while (w.log >= 0 && (n = ::read(w.log, buf, sizeof buf)) > 0) text->append(buf, static_cast<std::size_t>(n));
}

void WorkerPool::read_hello(Worker& w) {
  // Waits until the new worker says hello (library loaded) or dies.
  char buf[4096];
  while (true) {
    if (auto msg = w.frames.next()) {
      if (msg->value("type", "") != "hello") {
        startup_failure(w, msg->contains("message") ? msg->at("message").get<std::string>() : "");
      }
      w.has_hello = true;
      if (ngspice_version_.empty()) ngspice_version_ = msg->at("ngspice_version").get<std::string>();
      return;
    }
    pollfd p{w.socket, POLLIN, 0};
    if (::poll(&p, 1, 1000) < 0 && errno != EINTR) throw IoError(std::string("poll: ") + std::strerror(errno));
    const ssize_t n = ::read(w.socket, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) startup_failure(w, "");
    w.frames.append(buf, static_cast<std::size_t>(n));
  }
}

bool WorkerPool::flush_outbox(Worker& w, const std::string& more) {
  w.outbox += more;
  while (!w.outbox.empty()) {
    const ssize_t n = ::send(w.socket, w.outbox.data(), w.outbox.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;  // the rest when the socket has room
      return false;                                              // the worker is gone (EPIPE)
    }
    w.outbox.erase(0, static_cast<std::size_t>(n));
  }
  return true;
}

std::string WorkerPool::ngspice_version() {
  if (ngspice_version_.empty()) {
    Worker& w = *workers_.front();
    if (!w.alive()) spawn(w);
    if (!w.has_hello) read_hello(w);
  }
  return ngspice_version_;
}

bool WorkerPool::run(std::size_t count, const std::function<SimJob(std::size_t)>& make_job,
                     const std::function<void(SimResult&&)>& on_result) {
  auto stopping = [&] { return options_.stop != nullptr && options_.stop->load(); };
  constexpr std::size_t kQueueDepth = 2;
  std::size_t next = 0;
  std::size_t outstanding = 0;
  std::deque<SimJob> retry;  // sent to a worker that died before starting them

  auto start_front = [](Worker& w) {
    if (w.queue.empty()) return;
    // Past kMaxTimeout_s (or NaN) the deadline would overflow the clock:
    // callers refuse such budgets, and this keeps the pool safe without them.
    if (!(w.queue.front().timeout_s <= limits::kMaxTimeout_s)) w.queue.front().timeout_s = limits::kMaxTimeout_s;
    w.started = Clock::now();
    w.deadline = w.started + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(std::clamp(w.queue.front().timeout_s, 0.001, limits::kMaxTimeout_s)));
    w.log_tail.clear();
  };
  auto finish = [&](Worker& w, SimResult&& r) {
    r.wall_time_s = std::chrono::duration<double>(Clock::now() - w.started).count();
    w.queue.pop_front();
    --outstanding;
    start_front(w);
    on_result(std::move(r));
  };
  // Jobs queued behind the running one never started: give them to another worker.
  auto requeue_waiting = [&](Worker& w) {
    while (w.queue.size() > 1) {
      retry.push_front(std::move(w.queue.back()));
      w.queue.pop_back();
      --outstanding;
    }
  };
  // Reaps a worker that died or must die, and records its running point (if
  // any) as failed with whatever the worker printed last: often ngspice's last words.
  auto lose_worker = [&](Worker& w, SimOutcome outcome, const std::string& why) {
    if (stopping()) {
      // Interrupted: the worker may have died of the same signal; its point
      // did not fail, it was not finished.
      retire(w, true);
      return;
    }
    requeue_waiting(w);
    std::string tail;
    retire_log_into(w, &tail);
    const pid_t pid = w.pid;
    const int status = retire(w, /*kill_it=*/true);
    if (!w.busy()) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 3) ++stats_.poisoned;
      return;
    }
    const SimJob& job = w.queue.front();
    SimResult r;
    r.id = job.id;
    r.worker_pid = pid;
    r.outcome = outcome;
    r.message = why;
    if (outcome == SimOutcome::kCrash) {
      ++stats_.crashed;
      r.message = "worker pid " + std::to_string(pid) + " " + signal_description(status) +
                  " while simulating point " + std::to_string(job.id);
    }
    if (!tail.empty()) r.message += "\nlast output:\n" + tail;
    r.values.assign(sweep::total_width(job.measures), std::nan(""));
    finish(w, std::move(r));
  };

  while (next < count || !retry.empty() || outstanding > 0) {
    if (stopping()) {
      for (auto& wp : workers_) retire(*wp, /*kill_it=*/true);
      return false;
    }
    // Keep every worker's queue full, within its recycling budget.
    for (auto& wp : workers_) {
      Worker& w = *wp;
      while (w.queue.size() < kQueueDepth && (next < count || !retry.empty()) &&
             (options_.recycle_after == 0 || w.sent < options_.recycle_after || !w.alive())) {
        // A new worker gets its job at once: it reads it after loading
        // libngspice, so several workers start in parallel.
        if (!w.alive()) spawn(w);
        SimJob job;
        if (!retry.empty()) {
          job = std::move(retry.front());
          retry.pop_front();
        } else {
          job = make_job(next++);
        }
        w.queue.push_back(std::move(job));
        ++outstanding;
        ++w.sent;
        if (w.queue.size() == 1) start_front(w);
        if (!flush_outbox(w, protocol::encode_frame(protocol::job_to_json(w.queue.back())))) {
          if (!w.has_hello) startup_failure(w, "");
          lose_worker(w, SimOutcome::kCrash, "");
          break;
        }
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
      fds.push_back({w.socket, static_cast<short>(POLLIN | (w.outbox.empty() ? 0 : POLLOUT)), 0});
      owner.emplace_back(i, true);
      if (w.log >= 0) {
        fds.push_back({w.log, POLLIN, 0});
        owner.emplace_back(i, false);
      }
      if (w.busy()) nearest = std::min(nearest, w.deadline);
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
      if ((fds[k].revents & POLLOUT) != 0 && !flush_outbox(w, "")) {
        if (!w.has_hello) startup_failure(w, "");
        lose_worker(w, SimOutcome::kCrash, "");
        continue;
      }
      if ((fds[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::read(w.socket, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        // A worker that dies before saying hello could not load libngspice:
        // no point can run, so this is an installation problem, not data.
        if (!w.has_hello) startup_failure(w, "");
        // The socket closed: the worker is gone (crash, exit, external kill).
        lose_worker(w, SimOutcome::kCrash, "");
        continue;
      }
      w.frames.append(buf, static_cast<std::size_t>(n));
      while (auto msg = w.frames.next()) {
        const auto& type = msg->at("type");
        if (type == "hello") {
          w.has_hello = true;
          if (ngspice_version_.empty()) ngspice_version_ = msg->at("ngspice_version").get<std::string>();
          continue;
        }
        if (type == "fatal") startup_failure(w, msg->at("message").get<std::string>());
        if (type != "result") continue;
        SimResult r = protocol::result_from_json(*msg);
        GC_CHECK(w.busy() && r.id == w.queue.front().id) << "result for point " << r.id << " out of order";
        const bool poisoned = r.outcome == SimOutcome::kControlledExit;
        if (poisoned) requeue_waiting(w);  // the worker exits without reading them
        finish(w, std::move(r));
        if (poisoned) {
          // The library is unusable; the worker exits by itself. Replace it.
          ++stats_.poisoned;
          retire(w, true);
          break;
        }
        if (options_.recycle_after > 0 && w.sent >= options_.recycle_after && !w.busy()) {
          ++stats_.recycled;
          retire(w, false);
          break;
        }
      }
    }

    // Points over their budget: kill the worker (bg_halt cannot stop a
    // Newton solve that never returns; only SIGKILL is a guarantee).
    const auto now = Clock::now();
    for (auto& wp : workers_) {
      Worker& w = *wp;
      if (w.alive() && w.busy() && now >= w.deadline) {
        ++stats_.timed_out;
        const SimJob& job = w.queue.front();
        char text[64];
        std::snprintf(text, sizeof text, "%g", job.timeout_s);
        lose_worker(w, SimOutcome::kTimeout,
                    "point " + std::to_string(job.id) + " exceeded its timeout of " + text + " s; worker pid " +
                        std::to_string(w.pid) + " was killed");
      }
    }
  }
  return true;
}

}  // namespace gaincell::spice
