#pragma once
/// What every graph command (build, plan, status, why) sets up: the checked model, the state
/// store, the action graph and the selected actions.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/front_end.h"
#include "eval/evaluator.h"
#include "graph/action_graph.h"
#include "graph/selector.h"
#include "state/build_lock.h"
#include "state/state_store.h"

namespace dbuild {

/// Options every command shares.
struct CommonOptions {
  std::string dir = ".";
  std::vector<std::string> vars;  // NAME=VALUE
  bool json = false;
};

struct Session {
  FrontEnd fe;
  std::string state_dir;   // <root>/.dbuild/state
  std::string warehouse;   // the workspace's SQLite file
  std::unique_ptr<exec::Engines> engines;  // of the model's datasets (engine_factory.h)
  std::optional<BuildLock> lock;
  std::unique_ptr<StateStore> store;  // null: read-only and nothing built yet
  std::unique_ptr<ActionGraph> graph;
  std::vector<uint8_t> targets;       // what the selectors picked
  std::vector<uint8_t> selected;      // targets and their upstream
  // `dbuild flush TABLE [--group ID]`: set before open_session(), which closes that group.
  std::string flush_table;
  std::string flush_group;
};

enum class Access { kReadOnly, kBuild };

/// Loads the workspace, opens the state (taking the build lock for kBuild), builds the graph
/// and selects actions. Prints what goes wrong; returns the exit code to use, or 0.
int open_session(const CommonOptions& common, const SelectOptions& select, Access access,
                 const std::string& command_line, Session& s);

/// An open group of a grouped table that the selection covers (open groups are not actions).
struct WaitingGroup {
  DatasetId dataset = kNone;
  const Group* group = nullptr;
  int64_t waited_ms = 0;
  bool overdue = false;  // waited longer than the table's max_wait
};
std::vector<WaitingGroup> waiting_groups(const Session& s, const SelectOptions& select);
/// "g000002 of `batched`: 7 of 10 files, 3.1 of 64.0 MB, waiting 2h 5m (over max_wait 1h)".
std::string waiting_text(const Session& s, const WaitingGroup& w);

/// Prints "dbuild: error: MESSAGE", and what to do when the message is the warehouse engine
/// saying its storage is damaged (Engine::damage_hint); for --json, the error object with
/// `code` (json_output.h) too. Call it only right before returning the failure.
void print_error(const Session& s, const std::string& message, const std::string& code = "error");
/// What to do about a damaged warehouse, if `message` says it is damaged; "" otherwise.
std::string damaged_warehouse_hint(const Session& s, const std::string& message);

/// Parses NAME=VALUE pairs; prints bad ones (and, for --json, a usage error object).
std::map<std::string, std::string> parse_vars(const std::vector<std::string>& vars, bool& ok);

}  // namespace dbuild
