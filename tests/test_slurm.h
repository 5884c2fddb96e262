#pragma once
/// The SLURM cluster for executor tests. A test that needs one and cannot have it fails with
/// the reason: it never skips silently.
#include <string>

#include "base/status.h"

namespace dbuild::testing {

/// The slurm.conf of the cluster tests use: SLURM_CONF when DBUILD_TEST_SLURM is set (CI
/// starts one cluster for the whole run with scripts/slurm), otherwise a private cluster
/// started once per test process with scripts/slurm and stopped when the process exits.
Result<std::string> slurm_conf();

/// Environment assignments for running dbuild (or SLURM's commands) against that cluster:
/// "SLURM_CONF=... DBUILD_SLURM_POLL_MS=200".
std::string slurm_env(const std::string& conf);

}  // namespace dbuild::testing
