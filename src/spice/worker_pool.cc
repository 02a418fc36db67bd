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
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/unique_fd.h"
#include "gaincell/spice/protocol.h"
#include "gaincell/spice/worker.h"

namespace gaincell::spice {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kLogTailBytes = 8192;
constexpr std::size_t kQueueDepth = 2;  // the running job and the next one, waiting in the socket

std::string signal_description(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = ::strsignal(sig);
    return "killed by signal " + std::to_string(sig) + " (" + (name ? name : "?") + ")";
  }
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "stopped (status " + std::to_string(status) + ")";
}

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

// The pool's scratch directory, $TMPDIR/gaincell-pool-<pid>-XXXXXX (or under `base`).
std::filesystem::path make_scratch_dir(std::filesystem::path base) {
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
  return pattern;
}

// Both ends of a connected Unix stream socket (close-on-exec).
std::array<UniqueFd, 2> socket_pair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    throw IoError(std::string("socketpair: ") + std::strerror(errno));
  }
  return {UniqueFd(sv[0]), UniqueFd(sv[1])};
}

// The read and write ends of a pipe (close-on-exec).
std::array<UniqueFd, 2> pipe_pair() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw IoError(std::string("pipe: ") + std::strerror(errno));
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void set_nonblocking(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
}

// What the child runs: the worker executable with its socket on fd 3.
struct WorkerCommand {
  std::string exe;
  std::string dir;
  std::string library;
  pid_t driver;
  int socket;  // the child's end
  int log;     // the write end of the log pipe
};

// In the forked child: only async-signal-safe calls until exec. fd 3 =
// socket, stdout/stderr = log pipe, stdin = /dev/null; everything else is
// closed so the worker cannot touch the parent's HDF5 file.
[[noreturn]] void exec_worker(const WorkerCommand& c) {
  // Own process group: a terminal's Ctrl-C reaches the driver, which stops
  // the workers itself and keeps what they finished.
  ::setpgid(0, 0);
  // Die with the driver, even a SIGKILLed one: no orphan keeps a core busy.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != c.driver) ::_exit(1);  // the driver died before prctl
  const int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, 0);
  ::dup2(c.log, 1);
  ::dup2(c.log, 2);
  ::dup2(c.socket, 3);
  ::close_range(4, ~0U, 0);
  char fd_arg[] = "3";
  char* argv[] = {const_cast<char*>(c.exe.c_str()), const_cast<char*>("--socket-fd"), fd_arg,
                  const_cast<char*>("--dir"), const_cast<char*>(c.dir.c_str()),
                  const_cast<char*>("--ngspice"), const_cast<char*>(c.library.c_str()), nullptr};
  ::execv(c.exe.c_str(), argv);
  const char msg[] = "gaincell-worker: exec failed\n";
  [[maybe_unused]] ssize_t n = ::write(2, msg, sizeof msg - 1);
  ::_exit(127);
}

// Starts point `job`'s clock: its deadline is its timeout from now.
void start_clock(Clock::time_point& started, Clock::time_point& deadline, SimJob& job) {
  // Past kMaxTimeout_s (or NaN) the deadline would overflow the clock:
  // callers refuse such budgets, and this keeps the pool safe without them.
  if (!(job.timeout_s <= limits::kMaxTimeout_s)) job.timeout_s = limits::kMaxTimeout_s;
  started = Clock::now();
  deadline = started + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(std::clamp(job.timeout_s, 0.001, limits::kMaxTimeout_s)));
}

}  // namespace

struct WorkerPool::Worker {
  pid_t pid = -1;
  UniqueFd socket;  // jobs out, results in
  UniqueFd log;     // the worker's stdout+stderr
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
  // The front job becomes the running one: its clock starts, the log tail is its own.
  void start_front() {
    if (queue.empty()) return;
    start_clock(started, deadline, queue.front());
    log_tail.clear();
  }
  // Keeps the last kLogTailBytes of what the worker printed.
  void append_log(const char* data, std::size_t n) {
    log_tail.append(data, n);
    if (log_tail.size() > kLogTailBytes) log_tail.erase(0, log_tail.size() - kLogTailBytes);
  }
};

WorkerPool::WorkerPool(PoolOptions options) : options_(std::move(options)) {
  if (options_.jobs < 0 || options_.jobs > limits::kMaxJobs) {
    throw InputError("GC-1301", std::to_string(options_.jobs) + " workers: expected 0 (one per core) to " +
                                    std::to_string(limits::kMaxJobs) + " (limits::kMaxJobs, docs/cli.md#limits)");
  }
  // The callers check the lines where the user wrote them (spec, card); this
  // keeps any other caller from handing a worker a command.
  for (std::size_t k = 0; k < options_.ngspice_init.size(); ++k) {
    const InitLineCheck c = check_init_line(options_.ngspice_init[k]);
    if (!c.ok()) {
      throw InputError(c.id, c.message, c.hint).at_pointer("ngspice_init[" + std::to_string(k) + "]");
    }
    options_.ngspice_init[k] = c.line;
  }
  jobs_ = options_.jobs > 0 ? options_.jobs
                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (options_.ngspice_library.empty()) options_.ngspice_library = build_info().ngspice_path;
  worker_exe_ = options_.worker.empty() ? find_worker_executable() : options_.worker;
  scratch_ = make_scratch_dir(options_.scratch_dir);
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
  auto [socket, child_socket] = socket_pair();
  auto [log, child_log] = pipe_pair();
  const WorkerCommand command{worker_exe_.string(), w.dir.string(), options_.ngspice_library, ::getpid(),
                              child_socket.get(), child_log.get()};
  const pid_t pid = ::fork();
  if (pid < 0) throw IoError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) exec_worker(command);
  // The child's ends live on in the child only: the parent sees EOF when it dies.
  child_socket.reset();
  child_log.reset();
  w.pid = pid;
  w.socket = std::move(socket);
  w.log = std::move(log);
  set_nonblocking(w.log.get(), true);
  set_nonblocking(w.socket.get(), true);
  ++stats_.spawned;
}

int WorkerPool::retire(Worker& w, bool kill_it) {
  if (!w.alive()) return 0;
  if (kill_it) {
    ::kill(w.pid, SIGKILL);
  } else if (!w.outbox.empty() || !flush_outbox(w, protocol::encode_frame({{"type", "quit"}}))) {
    ::kill(w.pid, SIGKILL);  // it cannot take the quit now: it has nothing left to do for us
  }
  w.socket.reset();
  w.log.reset();
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
  if (why.empty() && w.socket) why = last_fatal_message(w);
  // Blocking reads are fine here: the worker is dead or about to be killed.
  set_nonblocking(w.log.get(), false);
  retire_log_into(w, &why);
  retire(w, true);
  throw IoError("gaincell-worker (" + worker_exe_.string() + ") could not start: " +
                (why.empty() ? std::string("no message") : why));
}

std::string WorkerPool::last_fatal_message(Worker& w) {
  char buf[4096];
  for (int waited_ms = 0; waited_ms < 2000;) {
    pollfd p{w.socket.get(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      waited_ms += 100;
      continue;
    }
    const ssize_t n = ::read(w.socket.get(), buf, sizeof buf);
    if (n <= 0) break;
    w.frames.append(buf, static_cast<std::size_t>(n));
  }
  std::string why;
  while (auto msg = w.frames.next()) {
    if (msg->value("type", "") == "fatal" && msg->contains("message")) why = msg->at("message").get<std::string>();
  }
  return why;
}

void WorkerPool::retire_log_into(Worker& w, std::string* text) {
  *text += w.log_tail;
  char buf[4096];
  ssize_t n;
  while (w.log && (n = ::read(w.log.get(), buf, sizeof buf)) > 0) text->append(buf, static_cast<std::size_t>(n));
}

void WorkerPool::read_hello(Worker& w) {
  // Waits until the new worker says hello (library loaded) or dies.
  char buf[4096];
  while (true) {
    if (auto msg = w.frames.next()) {
      if (msg->value("type", "") != "hello") {
        startup_failure(w, msg->contains("message") ? msg->at("message").get<std::string>() : "");
      }
      take_hello(w, *msg);
      return;
    }
    pollfd p{w.socket.get(), POLLIN, 0};
    if (::poll(&p, 1, 1000) < 0 && errno != EINTR) throw IoError(std::string("poll: ") + std::strerror(errno));
    const ssize_t n = ::read(w.socket.get(), buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) startup_failure(w, "");
    w.frames.append(buf, static_cast<std::size_t>(n));
  }
}

void WorkerPool::take_hello(Worker& w, const nlohmann::json& hello) {
  w.has_hello = true;
  if (ngspice_version_.empty()) ngspice_version_ = hello.at("ngspice_version").get<std::string>();
}

bool WorkerPool::flush_outbox(Worker& w, const std::string& more) {
  w.outbox += more;
  while (!w.outbox.empty()) {
    const ssize_t n = ::send(w.socket.get(), w.outbox.data(), w.outbox.size(), MSG_NOSIGNAL);
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

// One call of run(): the jobs not yet handed out, those to hand out again,
// and the steps of the loop (fill the queues, wait, serve the workers, kill
// what is over its deadline).
class WorkerPool::Run {
 public:
  Run(WorkerPool& pool, std::size_t count, const std::function<SimJob(std::size_t)>& make_job,
      const std::function<void(SimResult&&)>& on_result)
      : pool_(pool), count_(count), make_job_(make_job), on_result_(on_result) {}

  bool execute() {
    while (has_jobs() || outstanding_ > 0) {
      if (stopping()) {
        for (auto& w : pool_.workers_) pool_.retire(*w, /*kill_it=*/true);
        return false;
      }
      for (auto& w : pool_.workers_) fill_queue(*w);
      if (outstanding_ == 0) continue;
      serve_ready(wait_for_workers());
      enforce_deadlines();
    }
    return true;
  }

 private:
  // A ready descriptor of a worker: its socket or its log pipe.
  struct Ready {
    Worker* worker;
    bool is_socket;
    short revents;
  };

  bool stopping() const { return pool_.options_.stop != nullptr && pool_.options_.stop->load(); }
  bool has_jobs() const { return next_ < count_ || !retry_.empty(); }
  bool may_send(const Worker& w) const {
    const std::size_t recycle = pool_.options_.recycle_after;
    return recycle == 0 || w.sent < recycle || !w.alive();
  }

  SimJob next_job() {
    if (retry_.empty()) return make_job_(next_++);
    SimJob job = std::move(retry_.front());
    retry_.pop_front();
    return job;
  }

  // Keeps the worker's queue full, within its recycling budget. A new worker
  // gets its job at once: it reads it after loading libngspice, so several
  // workers start in parallel.
  void fill_queue(Worker& w) {
    while (w.queue.size() < kQueueDepth && has_jobs() && may_send(w)) {
      if (!w.alive()) pool_.spawn(w);
      w.queue.push_back(next_job());
      ++outstanding_;
      ++w.sent;
      if (w.queue.size() == 1) w.start_front();
      if (!pool_.flush_outbox(w, protocol::encode_frame(protocol::job_to_json(w.queue.back())))) {
        lose_dead_worker(w);
        return;
      }
    }
  }

  // Waits for results, log output, room in a socket or the nearest deadline.
  std::vector<Ready> wait_for_workers() {
    std::vector<pollfd> fds;
    std::vector<Ready> owner;
    auto nearest = Clock::time_point::max();
    for (auto& wp : pool_.workers_) {
      Worker& w = *wp;
      if (!w.alive()) continue;
      fds.push_back({w.socket.get(), static_cast<short>(POLLIN | (w.outbox.empty() ? 0 : POLLOUT)), 0});
      owner.push_back({&w, true, 0});
      if (w.log) {
        fds.push_back({w.log.get(), POLLIN, 0});
        owner.push_back({&w, false, 0});
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
    std::vector<Ready> out;
    for (std::size_t k = 0; ready > 0 && k < fds.size(); ++k) {
      if (fds[k].revents != 0) out.push_back({owner[k].worker, owner[k].is_socket, fds[k].revents});
    }
    return out;
  }

  void serve_ready(const std::vector<Ready>& ready) {
    for (const Ready& r : ready) {
      if (!r.worker->alive()) continue;  // lost while serving an earlier descriptor
      if (r.is_socket) {
        serve_socket(*r.worker, r.revents);
      } else {
        serve_log(*r.worker);
      }
    }
  }

  void serve_log(Worker& w) {
    if (!w.log) return;
    char buf[65536];
    const ssize_t n = ::read(w.log.get(), buf, sizeof buf);
    if (n > 0) {
      w.append_log(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      w.log.reset();
    }
  }

  void serve_socket(Worker& w, short revents) {
    if ((revents & POLLOUT) != 0 && !pool_.flush_outbox(w, "")) {
      lose_dead_worker(w);
      return;
    }
    if ((revents & (POLLIN | POLLHUP | POLLERR)) == 0) return;
    char buf[65536];
    const ssize_t n = ::read(w.socket.get(), buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      // The socket closed: the worker is gone (crash, exit, external kill).
      lose_dead_worker(w);
      return;
    }
    w.frames.append(buf, static_cast<std::size_t>(n));
    read_frames(w);
  }

  void read_frames(Worker& w) {
    while (auto msg = w.frames.next()) {
      const auto& type = msg->at("type");
      if (type == "hello") {
        pool_.take_hello(w, *msg);
        continue;
      }
      if (type == "fatal") pool_.startup_failure(w, msg->at("message").get<std::string>());
      if (type != "result") continue;
      if (!take_result(w, protocol::result_from_json(*msg))) return;
    }
  }

  // Hands a result on; false if the worker was retired after it.
  bool take_result(Worker& w, SimResult&& r) {
    GC_CHECK(w.busy() && r.id == w.queue.front().id) << "result for point " << r.id << " out of order";
    const bool poisoned = r.outcome == SimOutcome::kControlledExit;
    if (poisoned) requeue_waiting(w);  // the worker exits without reading them
    finish(w, std::move(r));
    if (poisoned) {
      // The library is unusable; the worker exits by itself. Replace it.
      ++pool_.stats_.poisoned;
      pool_.retire(w, true);
      return false;
    }
    if (pool_.options_.recycle_after > 0 && w.sent >= pool_.options_.recycle_after && !w.busy()) {
      ++pool_.stats_.recycled;
      pool_.retire(w, false);
      return false;
    }
    return true;
  }

  // Points over their budget: kill the worker (bg_halt cannot stop a
  // Newton solve that never returns; only SIGKILL is a guarantee).
  void enforce_deadlines() {
    const auto now = Clock::now();
    for (auto& wp : pool_.workers_) {
      Worker& w = *wp;
      if (!w.alive() || !w.busy() || now < w.deadline) continue;
      ++pool_.stats_.timed_out;
      const SimJob& job = w.queue.front();
      char text[64];
      std::snprintf(text, sizeof text, "%g", job.timeout_s);
      lose_worker(w, SimOutcome::kTimeout,
                  "point " + std::to_string(job.id) + " exceeded its timeout of " + text + " s; worker pid " +
                      std::to_string(w.pid) + " was killed");
    }
  }

  void finish(Worker& w, SimResult&& r) {
    r.wall_time_s = std::chrono::duration<double>(Clock::now() - w.started).count();
    w.queue.pop_front();
    --outstanding_;
    w.start_front();
    on_result_(std::move(r));
  }

  // Jobs queued behind the running one never started: give them to another worker.
  void requeue_waiting(Worker& w) {
    while (w.queue.size() > 1) {
      retry_.push_front(std::move(w.queue.back()));
      w.queue.pop_back();
      --outstanding_;
    }
  }

  // A worker whose socket failed: before its hello it could not load
  // libngspice, so no point can run (an installation problem, not data);
  // after it, its running point crashed.
  void lose_dead_worker(Worker& w) {
    if (!w.has_hello) pool_.startup_failure(w, "");
    lose_worker(w, SimOutcome::kCrash, "");
  }

  // Reaps a worker that died or must die, and records its running point (if
  // any) as failed with whatever the worker printed last: often ngspice's last words.
  void lose_worker(Worker& w, SimOutcome outcome, const std::string& why) {
    if (stopping()) {
      // Interrupted: the worker may have died of the same signal; its point
      // did not fail, it was not finished.
      pool_.retire(w, true);
      return;
    }
    requeue_waiting(w);
    std::string tail;
    pool_.retire_log_into(w, &tail);
    const pid_t pid = w.pid;
    const int status = pool_.retire(w, /*kill_it=*/true);
    if (!w.busy()) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 3) ++pool_.stats_.poisoned;
      return;
    }
    finish(w, lost_point_result(w.queue.front(), pid, status, outcome, why, tail));
  }

  SimResult lost_point_result(const SimJob& job, pid_t pid, int status, SimOutcome outcome, const std::string& why,
                              const std::string& tail) {
    SimResult r;
    r.id = job.id;
    r.worker_pid = pid;
    r.outcome = outcome;
    r.message = why;
    if (outcome == SimOutcome::kCrash) {
      ++pool_.stats_.crashed;
      r.message = "worker pid " + std::to_string(pid) + " " + signal_description(status) +
                  " while simulating point " + std::to_string(job.id);
    }
    if (!tail.empty()) r.message += "\nlast output:\n" + tail;
    r.values.assign(measure::total_width(job.measures), std::nan(""));
    return r;
  }

  WorkerPool& pool_;
  const std::size_t count_;
  const std::function<SimJob(std::size_t)>& make_job_;
  const std::function<void(SimResult&&)>& on_result_;
  std::size_t next_ = 0;         // the next job to make
  std::size_t outstanding_ = 0;  // sent and not yet answered
  std::deque<SimJob> retry_;     // sent to a worker that died before starting them
};

bool WorkerPool::run(std::size_t count, const std::function<SimJob(std::size_t)>& make_job,
                     const std::function<void(SimResult&&)>& on_result) {
  return Run(*this, count, make_job, on_result).execute();
}

}  // namespace gaincell::spice
