#pragma once
/// Runs the shell command of a command table's partition (`command """..."""` with
/// `output "out/{day}.csv"`).
///
/// Templates are shell-quoted, so a partition value can never inject shell syntax. The command
/// runs with /bin/sh in the workspace root and writes `{{ output }}`, a temporary path beside
/// the real output; only when it exits 0 (and wrote the file) is the file renamed into place,
/// so a failure leaves the previous output intact. Environment: DBUILD_ROOT, DBUILD_WAREHOUSE,
/// DBUILD_DATASET, DBUILD_PARTITION, DBUILD_OUTPUT. stdout and stderr become the action's log.
#include <string>

#include "base/hash.h"
#include "graph/action_graph.h"

namespace dbuild::exec {

struct CommandResult {
  Hash128 output_hash;  // content hash of the output file
  std::string output;   // the output path, relative to the root
  std::string log;      // stdout and stderr (the tail, if long)
};

/// The output path of partition `a` of a command table, relative to the root.
std::string command_output_path(const ActionGraph& g, ActionId a);

/// Runs the command of action `a`. On failure the error says why, with the log's tail.
Result<CommandResult> run_command_action(const ActionGraph& g, ActionId a, const std::string& warehouse);

/// Quotes a value for the shell: 'it'\''s'.
std::string shell_quote(const std::string& s);

}  // namespace dbuild::exec
