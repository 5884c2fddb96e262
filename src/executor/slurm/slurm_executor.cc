#include "executor/slurm/slurm_executor.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "executor/process.h"

extern char** environ;

namespace fs = std::filesystem;

namespace dbuild::exec {
namespace {

/// The environment SLURM's commands run with: enough to find the cluster, nothing else.
std::vector<std::string> tool_environment() {
  static const char* kKeep[] = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ"};
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool keep = name.starts_with("SLURM_");
    for (const char* k : kKeep) keep = keep || name == k;
    if (keep) env.emplace_back(entry);
  }
  return env;
}

struct ToolResult {
  int code = -1;    // exit status; -1: could not run
  std::string out;  // stdout and stderr
};

/// Runs argv[0] (found in PATH) and returns what it printed. The tool runs in a process group
/// of its own, so the terminal's Ctrl-C does not stop a `scancel` that the interrupt needs.
ToolResult run_tool(const std::vector<std::string>& args) {
  ToolResult r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return r;
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env = tool_environment();
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  init_spawn_attributes(&attr);  // a group of its own, which an interrupt signals
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    r.out = fmt::format("cannot run {}: {}", args[0], std::strerror(rc));
    return r;
  }
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) r.out.append(buf, static_cast<size_t>(n));
    else if (n == 0 || errno != EINTR) break;
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return r;
}

bool in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  return false;
}

std::string first_line(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  return line.empty() ? "(no output)" : line;
}

/// `Key=value` from one line of `scontrol show job -o`; "" when absent.
std::string field(const std::string& line, const std::string& key) {
  std::string k = " " + key + "=";
  size_t at = (" " + line).find(k);
  if (at == std::string::npos) return "";
  size_t begin = at + k.size() - 1;
  size_t end = line.find(' ', begin);
  return line.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

bool is_final(const std::string& state) {
  static const std::set<std::string> kFinal = {"COMPLETED", "FAILED",   "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY",
                                               "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "SPECIAL_EXIT"};
  return kFinal.count(state) > 0;
}

bool is_alive(const std::string& state) { return !state.empty() && !is_final(state); }

/// squeue's state of each job in `ids` that it still lists; nullopt (and *error) when squeue
/// could not answer (the controller is down or busy). An id squeue does not know is left out.
std::optional<std::map<std::string, std::string>> squeue_states(const std::vector<std::string>& ids,
                                                                std::string* error = nullptr) {
  std::map<std::string, std::string> states;
  std::string list;
  for (const auto& id : ids) list += (list.empty() ? "" : ",") + id;
  ToolResult r = run_tool({"squeue", "--noheader", "--states=all", "--format=%i %T", "--jobs=" + list});
  if (r.code != 0) {
    if (r.out.find("Invalid job id") != std::string::npos) return states;  // none of them is known
    if (error) *error = first_line(r.out);
    return std::nullopt;
  }
  std::istringstream in(r.out);
  std::string id, state;
  while (in >> id >> state) states[id] = state;
  return states;
}

class SlurmExecutor final : public Executor {
 public:
  explicit SlurmExecutor(SlurmSettings s) : s_(std::move(s)) {
    thread_ = std::thread([this] { loop(); });
  }
  ~SlurmExecutor() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  std::string kind() const override { return "slurm"; }
  std::string describe() const override {
    return fmt::format("slurm{}, {} at once", s_.partition.empty() ? "" : " partition " + s_.partition, s_.max_jobs);
  }
  int parallelism() const override { return s_.max_jobs; }

  Status start(const Job& job, JobDone done) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      to_submit_.push_back(Pending{job, std::move(done)});
    }
    cv_.notify_all();
    return Status::Ok();
  }

  void abort_all() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      aborting_ = true;
    }
    cv_.notify_all();
  }

  /// Cancels the jobs a killed coordinator left (see the header), and waits until they stopped.
  void cancel_leftovers() {
    std::ifstream in(submitted_path());
    std::vector<std::string> ids;
    for (std::string id; in >> id;) ids.push_back(id);
    std::vector<std::string> alive_ids;
    if (!ids.empty()) {
      if (auto states = squeue_states(ids))
        for (const auto& [id, state] : *states)
          if (is_alive(state)) alive_ids.push_back(id);
    }
    if (!alive_ids.empty()) {
      std::vector<std::string> args = {"scancel"};
      args.insert(args.end(), alive_ids.begin(), alive_ids.end());
      run_tool(args);
      if (s_.notice)
        s_.notice(fmt::format("cancelled {} SLURM job{} that a killed build left queued or running ({}); "
                              "their partitions are built again",
                              alive_ids.size(), alive_ids.size() == 1 ? "" : "s", fmt::join(alive_ids, ", ")));
      ids = alive_ids;
      for (int i = 0; i < 600; ++i) {  // up to a minute
        bool alive = false;
        auto states = squeue_states(ids);
        if (!states) break;  // the controller does not answer: nothing more to do here
        for (const auto& [id, state] : *states) alive = alive || is_alive(state);
        if (!alive) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    std::ofstream(submitted_path(), std::ios::trunc);
  }

 private:
  struct Pending {
    Job job;
    JobDone done;
  };
  struct Tracked {
    Job job;
    JobDone done;
    std::string last_state = "SUBMITTED";
    std::string script_path;
    std::string status_path;  // the command's exit status, written by the job script
  };

  std::string submitted_path() const { return s_.script_dir + "/submitted"; }

  void loop() {
    auto next_poll = std::chrono::steady_clock::now();
    for (;;) {
      std::deque<Pending> submit;
      bool abort = false, cancel = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        auto cancel_due = [this] { return aborting_ || (stopping_ && !cancelled_on_stop_); };
        cv_.wait_until(lock, next_poll, [&] { return cancel_due() || !to_submit_.empty(); });
        if (stopping_ && tracked_.empty() && to_submit_.empty()) return;
        submit.swap(to_submit_);
        abort = cancel_due() || stopping_;
        if (cancel_due()) {
          cancel = true;
          cancelled_on_stop_ = cancelled_on_stop_ || stopping_;
        }
        aborting_ = false;
      }
      std::vector<std::pair<JobDone, JobResult>> finished;
      std::vector<std::string> held;
      for (Pending& p : submit) {
        if (abort) {
          finished.emplace_back(std::move(p.done), JobResult{p.job.tag, -1, "cancelled before it was submitted"});
          continue;
        }
        if (auto id = submit_one(std::move(p), finished)) held.push_back(*id);
      }
      release(held, finished);
      if (cancel && !tracked_.empty()) {
        std::vector<std::string> args = {"scancel"};
        for (const auto& [id, t] : tracked_) args.push_back(id);
        run_tool(args);
      }
      auto now = std::chrono::steady_clock::now();
      if (now >= next_poll || cancel) {
        poll(finished);
        next_poll = now + s_.poll_interval;
      }
      for (auto& [done, result] : finished) done(std::move(result));
      // Nothing to watch: sleep until a job comes (start() wakes the thread).
      if (tracked_.empty()) next_poll = now + std::chrono::hours(1);
      else next_poll = std::min(next_poll, now + s_.poll_interval);
    }
  }

  /// Lets held jobs run, now that they are listed in `submitted`. Jobs SLURM would not release
  /// are cancelled and reported failed.
  void release(const std::vector<std::string>& ids, std::vector<std::pair<JobDone, JobResult>>& finished) {
    if (ids.empty()) return;
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ",") + id;
    ToolResult r = run_tool({"scontrol", "release", list});
    if (r.code == 0) return;
    std::vector<std::string> cancel = {"scancel"};
    cancel.insert(cancel.end(), ids.begin(), ids.end());
    run_tool(cancel);
    for (const auto& id : ids) {
      auto it = tracked_.find(id);
      if (it == tracked_.end()) continue;
      finished.emplace_back(std::move(it->second.done),
                            JobResult{it->second.job.tag, -1,
                                      fmt::format("SLURM would not release job {}: {}", id, first_line(r.out))});
      tracked_.erase(it);
    }
  }

  /// Submits `p` held; its id, or nullopt when it was refused (then reported in `finished`).
  std::optional<std::string> submit_one(Pending p, std::vector<std::pair<JobDone, JobResult>>& finished) {
    const Job& job = p.job;
    std::string script_path = fmt::format("{}/{}-{}.sh", s_.script_dir, slurm_safe_name(job.name), ++counter_);
    // The script keeps the command's exit status in a file beside it too, so a job that the
    // controller purged before a poll saw it end still has a known result.
    std::string status_path = script_path + ".status";
    std::string text = "#!/bin/sh\n# dbuild job " + job.name + "\nenv -i";
    for (const std::string& e : job.env) text += " " + shell_quote(e);
    text += " /bin/sh -c " + shell_quote(job.script) + " </dev/null\n";
    text += "rc=$?\necho $rc > " + shell_quote(status_path + ".tmp") + " && mv " + shell_quote(status_path + ".tmp") +
            " " + shell_quote(status_path) + "\nexit $rc\n";
    {
      std::ofstream out(script_path, std::ios::trunc);
      out << text;
      if (!out.flush()) {
        finished.emplace_back(std::move(p.done),
                              JobResult{job.tag, -1, fmt::format("cannot write the job script {}", script_path)});
        return std::nullopt;
      }
    }
    // Held until its id is in `submitted` (release()): a dbuild killed in between leaves a job
    // that never runs, rather than one the next build would not know to cancel.
    std::vector<std::string> args = {"sbatch", "--parsable", "--hold", "--job-name=" + slurm_safe_name(job.name),
                                     "--output=" + job.log_path, "--chdir=" + job.dir, "--export=ALL"};
    const JobResources& r = job.resources;
    if (!r.partition.empty()) args.push_back("--partition=" + r.partition);
    if (!r.time.empty()) args.push_back("--time=" + r.time);
    if (r.cpus > 0) args.push_back("--cpus-per-task=" + std::to_string(r.cpus));
    if (!r.mem.empty()) args.push_back("--mem=" + r.mem);
    args.push_back(script_path);
    ToolResult t = run_tool(args);
    // --parsable prints "id" or "id;cluster".
    std::string id = t.out.substr(0, t.out.find_first_of(";\n"));
    bool numeric = !id.empty() && id.find_first_not_of("0123456789") == std::string::npos;
    if (t.code != 0 || !numeric) {
      std::error_code ec;
      fs::remove(script_path, ec);
      finished.emplace_back(std::move(p.done),
                            JobResult{job.tag, -1, fmt::format("sbatch refused the job: {}", first_line(t.out))});
      return std::nullopt;
    }
    std::ofstream(submitted_path(), std::ios::app) << id << "\n";
    tracked_.emplace(id, Tracked{std::move(p.job), std::move(p.done), "SUBMITTED", script_path, status_path});
    return id;
  }

  void poll(std::vector<std::pair<JobDone, JobResult>>& finished) {
    if (tracked_.empty()) return;
    std::vector<std::string> ids;
    for (const auto& [id, t] : tracked_) ids.push_back(id);
    std::string error;
    auto listed = squeue_states(ids, &error);
    if (!listed) {
      // The controller may be restarting: keep waiting, up to a limit.
      if (++squeue_failures_ * s_.poll_interval < kControllerPatience) return;
      for (auto& [id, t] : tracked_)
        finished.emplace_back(std::move(t.done),
                              JobResult{t.job.tag, -1,
                                        fmt::format("SLURM job {}: squeue has failed for {} s ({}); its result is "
                                                    "unknown, so it counts as failed",
                                                    id, kControllerPatience.count() / 1000, error)});
      tracked_.clear();
      return;
    }
    squeue_failures_ = 0;
    const std::map<std::string, std::string>& states = *listed;
    for (auto it = tracked_.begin(); it != tracked_.end();) {
      auto s = states.find(it->first);
      if (s != states.end() && !is_final(s->second)) {
        it->second.last_state = s->second;
        ++it;
        continue;
      }
      // Final, or no longer listed: ask scontrol for the state and the exit code.
      ToolResult r = run_tool({"scontrol", "--oneliner", "show", "job", it->first});
      std::string state = field(r.out, "JobState");
      if (r.code != 0 && r.out.find("Invalid job id") == std::string::npos) {
        ++it;  // scontrol did not answer: look again at the next poll
        continue;
      }
      if (r.code == 0 && is_alive(state)) {  // listed by scontrol, not yet by squeue
        it->second.last_state = state;
        ++it;
        continue;
      }
      JobResult result;
      result.tag = it->second.job.tag;
      const std::string& id = it->first;
      std::ifstream status_in(it->second.status_path);
      int written = -1;
      bool has_status = static_cast<bool>(status_in >> written);
      if ((r.code != 0 || state.empty()) && has_status) {
        result.exit_code = written;  // purged before a poll saw it end, but it did end
      } else if (r.code != 0 || state.empty()) {
        result.error = fmt::format(
            "SLURM job {} was lost: neither squeue nor scontrol knows it any more (last seen {}); "
            "its result is unknown, so it counts as failed",
            id, it->second.last_state);
      } else if (state == "COMPLETED" || state == "FAILED") {
        std::string code = field(r.out, "ExitCode");  // "status:signal"
        int status = std::atoi(code.c_str());
        size_t colon = code.find(':');
        int signal = colon == std::string::npos ? 0 : std::atoi(code.c_str() + colon + 1);
        result.exit_code = signal ? 128 + signal : status;
        std::string reason = field(r.out, "Reason");
        if (reason == "JobLaunchFailure")
          result.error = fmt::format(
              "SLURM could not launch job {} (JobLaunchFailure, exit code {}): the nodes must see the workspace "
              "and its output directories at the same path (a shared file system)",
              id, code);
        else if (state == "FAILED" && result.exit_code == 0)
          result.error = fmt::format("SLURM job {} failed ({})", id, reason);
      } else {
        std::string why = state == "TIMEOUT"         ? "it ran past its time limit (slurm { time = ... })"
                          : state == "OUT_OF_MEMORY" ? "it ran out of memory (slurm { mem = ... })"
                          : state == "CANCELLED"     ? "it was cancelled"
                          : state == "NODE_FAIL"     ? "its node failed"
                          : state == "PREEMPTED"     ? "it was preempted"
                                                     : "the scheduler ended it";
        result.error = fmt::format("SLURM job {} ended as {}: {}", id, state, why);
      }
      std::error_code ec;
      fs::remove(it->second.script_path, ec);
      fs::remove(it->second.status_path, ec);
      finished.emplace_back(std::move(it->second.done), std::move(result));
      it = tracked_.erase(it);
    }
  }

  const SlurmSettings s_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> to_submit_;
  bool stopping_ = false, aborting_ = false, cancelled_on_stop_ = false;
  static constexpr std::chrono::milliseconds kControllerPatience{120000};
  int squeue_failures_ = 0;
  std::map<std::string, Tracked> tracked_;  // by job id; only the thread touches it
  uint64_t counter_ = 0;
  std::thread thread_;
};

}  // namespace

std::string slurm_safe_name(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '@' ? c : '_';
  return out.substr(0, 100);
}

Result<std::unique_ptr<Executor>> make_slurm_executor(const SlurmSettings& settings) {
  std::error_code ec;
  fs::create_directories(settings.script_dir, ec);
  if (ec) return Status::Error(fmt::format("cannot make {}: {}", settings.script_dir, ec.message()));
  if (!in_path("sbatch"))
    return Status::Error("the slurm executor needs SLURM's commands (sbatch, squeue, scontrol, scancel) in PATH; "
                         "install the SLURM client, or run with --executor local");
  SlurmSettings s = settings;
  s.max_jobs = std::max(1, s.max_jobs);
  auto e = std::make_unique<SlurmExecutor>(s);
  e->cancel_leftovers();
  return std::unique_ptr<Executor>(std::move(e));
}

}  // namespace dbuild::exec
