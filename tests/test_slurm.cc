#include "test_slurm.h"

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "test_util.h"

namespace dbuild::testing {
namespace {

/// A cluster started by this process with scripts/slurm; stopped when the process exits.
class PrivateSlurm {
 public:
  ~PrivateSlurm() {
    // The cluster lives in dir_/c (where it was started); then the directory itself goes.
    if (!dir_.empty()) run_command(source_dir() + "/scripts/slurm stop " + dir_ + "/c >/dev/null 2>&1; rm -rf " + dir_);
  }
  Result<std::string> conf() {
    std::call_once(once_, [this] { started_ = start(); });
    return started_;
  }

 private:
  Result<std::string> start() {
    // Short: SLURM's and MUNGE's sockets live under it (about 108 characters at most).
    char tmpl[] = "/tmp/dbs-XXXXXX";
    if (!mkdtemp(tmpl)) return Status::Error("cannot create a directory for the SLURM cluster");
    dir_ = tmpl;
    RunResult r = run_command(source_dir() + "/scripts/slurm start " + dir_ + "/c 2>&1");
    if (r.exit_code != 0)
      return Status::Error("scripts/slurm start failed (are slurmctld, slurmd, slurm-client and munge installed? "
                           "see scripts/dev): " + r.output);
    return dir_ + "/c/slurm.conf";
  }

  std::once_flag once_;
  std::string dir_;
  Result<std::string> started_ = Status::Error("not started");
};

PrivateSlurm g_private_slurm;

}  // namespace

Result<std::string> slurm_conf() {
  const char* ci = std::getenv("DBUILD_TEST_SLURM");
  const char* conf = std::getenv("SLURM_CONF");
  if (ci && *ci && conf && *conf) return std::string(conf);
  return g_private_slurm.conf();
}

std::string slurm_env(const std::string& conf) { return "SLURM_CONF=" + conf + " DBUILD_SLURM_POLL_MS=200"; }

}  // namespace dbuild::testing
