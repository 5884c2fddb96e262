#pragma once
/// Commands on the state and the graph's shape: clear, history, prune, graph.
#include <string>

#include "cli/session.h"

namespace dbuild {

/// Forgets the selected partitions (and, with `downstream`, everything that reads them), so
/// the next build recomputes them. The warehouse data stays until it is rebuilt.
int cmd_clear(const CommonOptions& common, const SelectOptions& select, bool downstream,
              const std::string& command_line);
/// The last `limit` runs, newest first.
int cmd_history(const CommonOptions& common, size_t limit);
/// Forgets runs and logs older than `older_than` (e.g. 30d, 12h).
int cmd_prune(const CommonOptions& common, const std::string& older_than, const std::string& command_line);
/// The dataset graph as dot, mermaid or json.
int cmd_graph(const CommonOptions& common, const std::string& format);

/// A time as `dbuild history` prints it: local, 2024-03-05 13:04:05; "-" for 0.
std::string local_time(int64_t unix_ms);
/// How a run ended, in a word or two: ok, failed, interrupted (SIGTERM), or unfinished (killed,
/// or still running).
std::string run_outcome(const RunRecord& r);

}  // namespace dbuild
