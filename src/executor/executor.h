#pragma once
/// Executor: where the shell commands of command tables run — on this machine (executor/local)
/// or as jobs of a batch scheduler (executor/slurm). The evaluator starts jobs and is told when
/// each finishes; it knows no executor by name.
///
/// The shape is a build tool's command runner: start a job, learn when any job finishes, abort
/// them all; each executor says how many jobs it runs at once, and the scheduler keeps to that
/// (its pool), apart from the pools of the engines. A job is only a command: what it reads and
/// writes, where its output goes and what is recorded stay the evaluator's business (it moves
/// the output into place and records state, on the coordinating machine only).
///
/// Completions. Every started job is reported exactly once to the `JobDone` callback given to
/// start(): its exit status, or why it did not run to the end (could not be started, cancelled,
/// lost by the scheduler). The callback may run on any thread (an executor's own waiting
/// thread), so it must only hand the result over (push to a queue).
///
/// Thread-safety: start() and abort_all() are called by one thread (the evaluator's driver).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace dbuild::exec {

/// What a job asks of a batch scheduler (`slurm { queue = "..." time = "1h" cpus = 2
/// mem = "4G" }`, queue being SLURM's partition); the local executor ignores it. Empty or 0: the scheduler's default.
struct JobResources {
  std::string partition;
  std::string time;  // wall-time limit: "90m", "1h", "2d", or SLURM's own "1-00:00:00"
  int cpus = 0;
  std::string mem;   // "512M", "4G"
};

/// One command: `/bin/sh -c script` in `dir` with exactly the environment `env` (NAME=VALUE),
/// stdin from /dev/null, stdout and stderr to `log_path` (created or truncated).
struct Job {
  uint64_t tag = 0;    // the caller's (the evaluator's action), handed back in JobResult
  std::string name;    // for people and schedulers: "simulate@2024-01-02"
  std::string script;
  std::string dir;
  std::vector<std::string> env;
  std::string log_path;
  JobResources resources;
};

struct JobResult {
  uint64_t tag = 0;
  /// The command's exit status; 128+N when a signal N ended it; -1 when it did not run to the
  /// end for a reason the executor knows (`error` says it).
  int exit_code = -1;
  std::string error;  // why it did not run or was lost; "" when it exited (any status)
  bool ok() const { return exit_code == 0 && error.empty(); }
};

using JobDone = std::function<void(JobResult)>;

class Executor {
 public:
  virtual ~Executor() = default;
  /// "local", "slurm": what `executor = NAME` names.
  virtual std::string kind() const = 0;
  /// For people: "local, 2 at once", "slurm partition debug, 100 at once".
  virtual std::string describe() const = 0;
  /// How many jobs it runs at once; the evaluator starts no more than that.
  virtual int parallelism() const = 0;
  /// Starts `job` and returns without waiting for it; `done` is called exactly once when it
  /// finishes (even after abort_all). An error means nothing was started and `done` is never
  /// called.
  virtual Status start(const Job& job, JobDone done) = 0;
  /// Stops every running job (a signal to a local process group, a cancel to the scheduler).
  /// Each is still reported to its `done`, as interrupted. Returns without waiting.
  virtual void abort_all() = 0;
};

}  // namespace dbuild::exec
