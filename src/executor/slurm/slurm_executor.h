#pragma once
/// The SLURM executor: each job is a batch job of a SLURM cluster.
///
/// Submitting. start() queues the job; the executor's own thread writes a job script under
/// `script_dir` and submits it with `sbatch --parsable` (job name, `--output` = the job's log,
/// `--chdir`, and the table's partition, time, cpus and mem). The script runs the command with
/// `env -i` and exactly the job's environment, so a command sees on a node what it would see
/// locally; sbatch itself runs with a minimal environment (PATH, HOME, USER, LOGNAME, LANG,
/// TZ, SLURM_*), so no secret of dbuild's environment is stored by the scheduler.
///
/// Tracking. The same thread asks `squeue` for the state of every job it tracks, every
/// `poll_interval`; a job that reached a final state, or that squeue no longer lists, is looked
/// up with `scontrol show job` for its state and exit code (no accounting database is needed).
/// COMPLETED and FAILED give the command's exit status; CANCELLED, TIMEOUT, OUT_OF_MEMORY,
/// NODE_FAIL, PREEMPTED, BOOT_FAIL and DEADLINE are failures that name the state; a job that
/// neither squeue nor scontrol knows any more is a failure too ("lost"), never a success.
///
/// Outputs are on a file system the nodes share with the coordinator (the workspace): the job
/// writes its temporary output and log there, and only the coordinator moves the output into
/// place and records state, after the job is reported finished.
///
/// Leftovers. Every job is submitted held, its id appended to `script_dir`/submitted, and only
/// then released (`scontrol release`), so no job runs that is not listed (one submitted in the
/// instant a coordinator is killed stays held, and never runs). A new executor first cancels
/// the jobs listed there that a killed coordinator left queued or running, and waits until they
/// stopped, so they cannot write beside the new jobs. abort_all() cancels every tracked job.
///
/// Commands are found in PATH (`sbatch`, `squeue`, `scontrol`, `scancel`); SLURM_CONF, when
/// set, says which cluster.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "executor/executor.h"

namespace dbuild::exec {

struct SlurmSettings {
  std::string script_dir;   // job scripts and the list of submitted jobs (created if missing)
  int max_jobs = 100;       // jobs queued or running at once
  std::chrono::milliseconds poll_interval{500};
  std::string partition;    // for describe() only; each job carries its own resources
  std::function<void(const std::string&)> notice;  // tells people what it did on their behalf
};

/// A SLURM executor, after cancelling the leftovers of a killed coordinator; fails when the
/// script directory cannot be made or sbatch cannot be found.
Result<std::unique_ptr<Executor>> make_slurm_executor(const SlurmSettings& settings);

/// `name` with what a job name or file name should not hold replaced by `_`.
std::string slurm_safe_name(const std::string& name);

}  // namespace dbuild::exec
