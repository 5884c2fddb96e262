#pragma once
/// The shell command of a command table's partition (`command """..."""` with
/// `output "out/{day}.csv"`): the job an executor runs, and what happens after it.
///
/// Templates are shell-quoted, so a partition value can never inject shell syntax. The command
/// runs with /bin/sh in the workspace root, on an executor (executor/executor.h), and writes `{{ output }}`: "<output>.dbuild-tmp" beside the
/// real output (unique per action, since no two partitions share an output path). Only when it
/// exits 0 and wrote that file is the file renamed into place, so a failure or an interrupt
/// leaves the previous output intact; the temporary file is removed either way.
///
/// Paths. Partition values become parts of output paths only when they are safe path parts
/// (not empty, `.` or `..`, no `/`, NUL or control characters), and an output path must stay
/// inside the workspace; dbuild writes and deletes nothing else.
///
/// Environment. A command sees only: PATH, HOME, USER, LOGNAME, SHELL, LANG, LANGUAGE, TZ,
/// TMPDIR, TERM and LC_* from dbuild's environment, the names its rule lists in
/// `env = [...]`, and DBUILD_ROOT, DBUILD_WAREHOUSE, DBUILD_DATASET, DBUILD_PARTITION,
/// DBUILD_OUTPUT. So secrets in dbuild's environment reach a command (and its log) only when
/// the rule asks for them. stdout and stderr become the action's log.
#include <span>
#include <string>
#include <vector>

#include "base/hash.h"
#include "executor/executor.h"
#include "graph/action_graph.h"
#include "state/state_records.h"

namespace dbuild::exec {

struct CommandResult {
  StatEntry output;          // the output file: its content hash and stat identity
  std::string output_path;   // relative to the root
  std::string log;           // stdout and stderr (the tail, if long)
};

/// The output path of partition `tuple` of command table `ds`, relative to the root. Fails
/// when a partition value cannot be part of a path or the path would leave the workspace.
Result<std::string> command_output_path(const Dataset& ds, std::span<const int64_t> tuple,
                                        const StringPool& pool);
Result<std::string> command_output_path(const ActionGraph& g, ActionId a);

/// Checks that no two selected partitions of a command table write the same path, and that
/// every path is allowed; the first problem found, naming both partitions.
Status check_command_outputs(const ActionGraph& g, const std::vector<uint8_t>& selected);

/// Removes the temporary output and log that a killed build may have left for the selected
/// partitions of command tables.
void remove_leftover_temporaries(const ActionGraph& g, const std::vector<uint8_t>& selected);

/// A command ready to start: the job for an executor and where its output goes.
struct PreparedCommand {
  Job job;
  std::string output_path;  // relative to the root
  std::string final_path;   // absolute
  std::string tmp_path;     // absolute: `{{ output }}`, moved to final_path on success
};

/// Builds the job of action `a` (script, environment, log) and makes the output's directory.
Result<PreparedCommand> prepare_command(const ActionGraph& g, ActionId a, const std::string& warehouse);
/// After the job of `p` finished as `job` says: reads its log and, when it succeeded and wrote
/// its output, moves the output into place. On failure the error says why, with the log's tail,
/// and the temporary output is gone.
Result<CommandResult> finish_command(const PreparedCommand& p, const JobResult& job);
/// Removes the temporary output and log of a job that will not be finished (interrupted).
void discard_command(const PreparedCommand& p);

/// The environment a command of `ds` runs with, as NAME=VALUE strings (see the file comment).
std::vector<std::string> command_environment(const Dataset& ds, char** parent_env,
                                             const std::vector<std::pair<std::string, std::string>>& dbuild_vars);

}  // namespace dbuild::exec
