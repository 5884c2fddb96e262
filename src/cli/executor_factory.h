#pragma once
/// The one place that knows every executor by name: makes the executors a build's command
/// tables run on (`executor = local | slurm`, the workspace's default, `--executor`).
#include <memory>
#include <string>

#include "eval/executors.h"
#include "model/model.h"

namespace dbuild {

/// The executors of a build of `m`: the local one, running `jobs` at once, and SLURM's when a
/// command table (or `override_kind`) asks for it. `override_kind` is "", "local" or "slurm":
/// given, every command table runs there. Job scripts go under `dot_dir`/slurm. Fails when
/// SLURM is asked for and cannot be used (no sbatch in PATH).
Result<std::unique_ptr<exec::Executors>> open_executors(const Model& m, const std::string& override_kind,
                                                        int jobs, const std::string& dot_dir);

}  // namespace dbuild
