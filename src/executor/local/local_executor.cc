#include "executor/local/local_executor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "base/interrupt.h"
#include "executor/process.h"

namespace dbuild::exec {
namespace {

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

/// The file descriptor on which a child waits for dbuild's go-ahead (see spawn()).
constexpr int kGoFd = 3;

/// Spawns `/bin/sh -c job.script` as described in local_executor.h; the pid, or -errno.
///
/// The shell first reads one line from `go_fd` (its fd 3), and runs the command only if the line
/// comes: the caller sends it after recording the child as a leftover candidate. A dbuild killed
/// in between closes the pipe, the read fails, and the command never runs — so no command runs
/// that the next build would not know to stop. (Same line: the command's line numbers are kept.)
pid_t spawn(const Job& job, int go_fd) {
  std::vector<char*> envp;
  for (const std::string& e : job.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::string sh = "sh", dash_c = "-c";
  std::string script = "read -r dbuild_go <&3 || exit 125; unset dbuild_go; exec 3<&-; " + job.script;
  char* argv[] = {sh.data(), dash_c.data(), script.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The log first: its path may be relative to dbuild's directory, not the command's.
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, job.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addchdir_np(&actions, job.dir.c_str());
  posix_spawn_file_actions_adddup2(&actions, go_fd, kGoFd);  // go_fd is never kGoFd itself

  posix_spawnattr_t attr;
  init_spawn_attributes(&attr);  // a group of its own, which an interrupt signals

  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -rc;
}

/// When process `pid` started, in clock ticks since boot (/proc/PID/stat field 22); 0 when it
/// is gone or a zombie.
uint64_t start_time(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string state, field;
  fields >> state;
  if (state == "Z" || state == "X") return 0;
  for (int i = 4; i <= 21; ++i) fields >> field;  // fields 4..21
  uint64_t t = 0;
  fields >> t;
  return t;
}

/// Kills the process groups listed in `path` whose leader still runs with the same start time,
/// waits (up to 10 s) until they are gone, and empties the list.
void kill_leftovers(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::pair<pid_t, uint64_t>> alive;
  pid_t pid;
  uint64_t started;
  while (in >> pid >> started)
    if (pid > 1 && started != 0 && start_time(pid) == started) alive.emplace_back(pid, started);
  for (const auto& [p, t] : alive) ::kill(-p, SIGKILL);
  for (int i = 0; i < 1000; ++i) {
    bool any = false;
    for (const auto& [p, t] : alive) any = any || start_time(p) == t;
    if (!any) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::ofstream(path, std::ios::trunc);
}

/// Writes the go-ahead line. A child that died before reading it must not kill dbuild with
/// SIGPIPE: the signal is blocked in this thread for the write, and consumed if it came.
void send_go(int fd) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  ssize_t n = ::write(fd, "\n", 1);
  if (n < 0 && errno == EPIPE) {
    timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

class LocalExecutor final : public Executor {
 public:
  LocalExecutor(int parallelism, std::string leftovers)
      : parallelism_(std::max(1, parallelism)), leftovers_(std::move(leftovers)) {
    if (!leftovers_.empty()) kill_leftovers(leftovers_);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    waiter_ = std::thread([this] { wait_loop(); });
  }
  ~LocalExecutor() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      // Nobody will read the results of jobs still running: stop them for good.
      for (const Child& c : children_) ::kill(-c.pid, SIGKILL);
    }
    wake();
    waiter_.join();
    if (wake_fd_ >= 0) ::close(wake_fd_);
    if (!leftovers_.empty()) std::ofstream(leftovers_, std::ios::trunc);  // every child is gone
  }

  std::string kind() const override { return "local"; }
  std::string describe() const override { return fmt::format("local, {} at once", parallelism_); }
  int parallelism() const override { return parallelism_; }

  Status start(const Job& job, JobDone done) override {
    int go[2];
    if (::pipe2(go, O_CLOEXEC) != 0)
      return Status::Error(fmt::format("the command could not be started: {}", std::strerror(errno)));
    if (go[0] == kGoFd) {  // dup2 onto itself would keep close-on-exec: move it first
      int moved = ::fcntl(go[0], F_DUPFD_CLOEXEC, kGoFd + 1);
      ::close(go[0]);
      go[0] = moved;
    }
    pid_t pid = go[0] < 0 ? -EMFILE : spawn(job, go[0]);
    if (go[0] >= 0) ::close(go[0]);
    if (pid < 0) {
      ::close(go[1]);
      return Status::Error(fmt::format("the command could not be started ({}): /bin/sh, its log {} or the "
                                       "directory {} is not usable",
                                       std::strerror(-pid), job.log_path, job.dir));
    }
    if (!leftovers_.empty()) std::ofstream(leftovers_, std::ios::app) << pid << " " << start_time(pid) << "\n";
    send_go(go[1]);  // recorded: the command may run
    ::close(go[1]);
    Child c;
    c.pid = pid;
    c.pidfd = open_pidfd(pid);  // -1 on old kernels: then polled every few milliseconds
    c.slot = register_child_group(pid);
    c.tag = job.tag;
    c.done = std::move(done);
    {
      std::lock_guard<std::mutex> lock(mu_);
      children_.push_back(std::move(c));
    }
    wake();
    return Status::Ok();
  }

  void abort_all() override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Child& c : children_) ::kill(-c.pid, SIGTERM);
  }

 private:
  struct Child {
    pid_t pid = 0;
    int pidfd = -1;
    int slot = -1;
    uint64_t tag = 0;
    JobDone done;
  };

  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }

  void wait_loop() {
    std::vector<pollfd> fds;
    for (;;) {
      bool any_without_pidfd = false;
      fds.clear();
      fds.push_back({wake_fd_, POLLIN, 0});
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_ && children_.empty()) return;
        for (const Child& c : children_) {
          if (c.pidfd >= 0) fds.push_back({c.pidfd, POLLIN, 0});
          else any_without_pidfd = true;
        }
      }
      int n = ::poll(fds.data(), fds.size(), any_without_pidfd ? 5 : -1);
      if (n < 0 && errno != EINTR) any_without_pidfd = true;  // fall back to looking at each
      uint64_t count;
      while (::read(wake_fd_, &count, sizeof count) > 0) {
      }
      std::vector<std::pair<JobDone, JobResult>> finished;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (size_t i = 0; i < children_.size();) {
          Child& c = children_[i];
          int status = 0;
          pid_t r = ::waitpid(c.pid, &status, WNOHANG);
          if (r == 0 || (r < 0 && errno == EINTR)) {
            ++i;
            continue;
          }
          JobResult result;
          result.tag = c.tag;
          if (r < 0) {
            result.error = fmt::format("lost track of the command's process {}: {}", c.pid, std::strerror(errno));
          } else if (WIFEXITED(status)) {
            result.exit_code = WEXITSTATUS(status);
          } else {
            result.exit_code = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
          }
          unregister_child_group(c.slot);
          if (c.pidfd >= 0) ::close(c.pidfd);
          finished.emplace_back(std::move(c.done), std::move(result));
          children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
        }
      }
      for (auto& [done, result] : finished) done(std::move(result));
    }
  }

  const int parallelism_;
  const std::string leftovers_;
  int wake_fd_ = -1;
  std::mutex mu_;
  std::vector<Child> children_;
  bool stopping_ = false;
  std::thread waiter_;
};

}  // namespace

std::unique_ptr<Executor> make_local_executor(int parallelism, const std::string& leftovers) {
  return std::make_unique<LocalExecutor>(parallelism, leftovers);
}

}  // namespace dbuild::exec
