#include "cli/executor_factory.h"

#include <cstdlib>

#include <fmt/format.h>

#include "executor/local/local_executor.h"
#include "executor/slurm/slurm_executor.h"

namespace dbuild {

Result<std::unique_ptr<exec::Executors>> open_executors(const Model& m, const std::string& override_kind,
                                                        int jobs, const std::string& dot_dir) {
  auto executors = std::make_unique<exec::Executors>();
  exec::Executor* local = executors->add(exec::make_local_executor(jobs, dot_dir + "/local-jobs"));
  executors->set_default(local);
  exec::Executor* slurm = nullptr;
  for (const Dataset& ds : m.datasets) {
    if (ds.kind != Dataset::Kind::CommandTable) continue;
    const std::string& kind = override_kind.empty() ? ds.executor.kind : override_kind;
    if (kind != "slurm") continue;
    if (!slurm) {
      exec::SlurmSettings s;
      s.script_dir = dot_dir + "/slurm";
      s.max_jobs = m.executor.max_jobs > 0 ? m.executor.max_jobs : 100;
      s.partition = m.executor.partition;
      // How often squeue is asked; tests and small clusters may ask more often.
      if (const char* ms = std::getenv("DBUILD_SLURM_POLL_MS"); ms && std::atoi(ms) > 0)
        s.poll_interval = std::chrono::milliseconds(std::atoi(ms));
      s.notice = [](const std::string& text) { fmt::print(stderr, "dbuild: {}\n", text); };
      auto e = exec::make_slurm_executor(s);
      if (!e.ok()) return e.status();
      slurm = executors->add(std::move(*e));
    }
    executors->assign(ds.id, slurm);
  }
  return executors;
}

}  // namespace dbuild
