#include "cli/session.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "base/metrics.h"
#include "cli/engine_factory.h"
#include "cli/json_output.h"
#include "engine/sqlite/sqlite_warehouse.h"
#include "eval/engine_lister.h"

namespace fs = std::filesystem;

namespace dbuild {

std::map<std::string, std::string> parse_vars(const std::vector<std::string>& vars, bool& ok) {
  std::map<std::string, std::string> out;
  for (const auto& v : vars) {
    size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0) {
      fmt::print(stderr, "dbuild: error: --var {}: expected NAME=VALUE\n", v);
      json_error(error_code::kUsage, fmt::format("--var {}: expected NAME=VALUE", v));
      ok = false;
      continue;
    }
    out[v.substr(0, eq)] = v.substr(eq + 1);
  }
  return out;
}

std::string damaged_warehouse_hint(const Session& s, const std::string& message) {
  if (!s.engines) return "";
  auto engine = s.engines->of_connection(kNone);
  return engine.ok() ? (*engine)->damage_hint(message) : "";
}

void print_error(const Session& s, const std::string& message, const std::string& code) {
  std::string hint = damaged_warehouse_hint(s, message);
  fmt::print(stderr, "dbuild: error: {}\n{}", message, hint);
  json_error(hint.empty() ? code : error_code::kWarehouseError, message);
}

namespace {

/// Creates `dir` if needed; "" if it is then a writable directory, else what is wrong.
std::string writable_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fmt::format("cannot create {}: {}", dir.string(), ec.message());
  if (::access(dir.c_str(), W_OK) != 0) return fmt::format("{}: {}", dir.string(), std::strerror(errno));
  return "";
}

/// "" if a build can write what it writes (.dbuild/, its state and lock, the warehouse and its
/// directory); else what it cannot write.
std::string unwritable(const Session& s, const std::string& dot) {
  for (const fs::path& dir : {fs::path(dot), fs::path(s.state_dir), fs::path(s.warehouse).parent_path()})
    if (std::string e = writable_dir(dir.empty() ? fs::path(".") : dir); !e.empty()) return e;
  for (const std::string& file : {dot + "/build.lock", s.state_dir + "/data.mdb", s.state_dir + "/lock.mdb", s.warehouse})
    if (::access(file.c_str(), F_OK) == 0 && ::access(file.c_str(), W_OK) != 0)
      return fmt::format("{}: {}", file, std::strerror(errno));
  return "";
}

int open_state(Session& s, Access access, const std::string& command_line) {
  ScopedMetric metric("state open");
  std::string dot = s.fe.model.root + "/.dbuild";
  s.state_dir = dot + "/state";
  if (access == Access::kBuild) {
    if (std::string where = unwritable(s, dot); !where.empty()) {
      std::string message = fmt::format(
          "the workspace is not writable: {}; a build writes .dbuild/ and the warehouse (make them writable, "
          "or run it as their owner). plan, status, why and verify work without writing",
          where);
      fmt::print(stderr, "dbuild: error: {}\n", message);
      json_error(error_code::kNotWritable, message);
      return 1;
    }
    bool held = false;
    auto lock = BuildLock::acquire(dot + "/build.lock", command_line, &held);
    if (!lock.ok()) {
      fmt::print(stderr, "dbuild: error: {}\n", lock.status().message());
      json_error(held ? error_code::kLocked : error_code::kStateError, lock.status().message());
      return held ? 3 : 1;
    }
    s.lock = std::move(*lock);
    std::string notice;
    // Records are not all decoded on open: each is verified when read, and a damaged one is
    // treated as missing (its partition is rebuilt), so planning stays proportional to work.
    StateStore::Options options;
    options.check_records = false;
    auto store = StateStore::open_or_reset(s.state_dir, &notice, options);
    if (!notice.empty()) fmt::print(stderr, "dbuild: {}\n", notice);
    if (!store.ok()) {
      fmt::print(stderr, "dbuild: error: {}\n", store.status().message());
      json_error(error_code::kStateError, store.status().message());
      return 1;
    }
    s.store = std::move(*store);
    return 0;
  }
  StateStore::Options options;
  options.check_records = false;
  auto opened = StateStore::open(s.state_dir, StateStore::OpenMode::kReadOnly, options);
  if (!opened.ok()) {
    fmt::print(stderr, "dbuild: error: {}\n", opened.status().message());
    json_error(error_code::kStateError, opened.status().message());
    return 1;
  }
  if (opened->condition == StateStore::Condition::kUsable) s.store = std::move(opened->store);
  else if (opened->condition != StateStore::Condition::kMissing)
    fmt::print(stderr, "dbuild: the state in {} cannot be used ({}); the next build sets it aside and starts afresh\n",
               s.state_dir, opened->reason);
  return 0;
}

int64_t now_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// The recorded groups of every grouped table (none without a state).
int load_groups(const Session& s, GroupBook& book) {
  if (!s.store) return 0;
  auto txn = s.store->read();
  if (!txn.ok()) {
    fmt::print(stderr, "dbuild: error: {}\n", txn.status().message());
    json_error(error_code::kStateError, txn.status().message());
    return 1;
  }
  for (const auto& ds : s.fe.model.datasets) {
    if (!ds.grouped()) continue;
    auto recorded = txn->groups(ds.name);
    if (!recorded.ok()) {
      fmt::print(stderr, "dbuild: error: {}\n", recorded.status().message());
      json_error(error_code::kStateError, recorded.status().message());
      return 1;
    }
    auto& groups = book.recorded[ds.name];
    for (auto& r : *recorded) groups.push_back(Group{r.id, std::move(r.members), r.closed, r.opened_unix_ms, 0, {}, false});
  }
  return 0;
}

/// Records the groups of a build's graph before anything runs, so a group's members are fixed
/// before its output is written (a killed build finds the same groups).
int save_groups(const Session& s, const GroupBook& book) {
  for (const auto& ds : s.fe.model.datasets) {
    if (!ds.grouped()) continue;
    std::vector<GroupRecord> records;
    for (const auto& g : s.graph->groups[ds.id]) records.push_back({g.id, g.members, g.closed, g.opened_unix_ms});
    auto it = book.recorded.find(ds.name);
    bool same = it != book.recorded.end() && it->second.size() == records.size() &&
                std::equal(records.begin(), records.end(), it->second.begin(), [](const GroupRecord& r, const Group& g) {
                  return r.members == g.members && r.closed == g.closed;
                });
    if (same || (records.empty() && it == book.recorded.end())) continue;
    if (Status st = s.store->put_groups(ds.name, records); !st.ok()) {
      fmt::print(stderr, "dbuild: error: {}\n", st.message());
      json_error(error_code::kStateError, st.message());
      return 1;
    }
  }
  return 0;
}

/// Whether a selector could name dataset `name` (its table part matches as a glob).
bool selector_names(const std::string& selector, const std::string& name) {
  std::string t = selector;
  if (!t.empty() && t.front() == '+') t.erase(0, 1);
  if (!t.empty() && t.back() == '+') t.pop_back();
  if (size_t at = t.find('@'); at != std::string::npos) t.resize(at);
  return glob_match(t, name);
}

std::string duration_text(int64_t ms) {
  if (ms < 60000) return fmt::format("{}s", ms / 1000);
  int64_t m = ms / 60000;
  if (m < 60) return fmt::format("{}m", m);
  if (m < 48 * 60) return fmt::format("{}h {}m", m / 60, m % 60);
  return fmt::format("{}d {}h", m / 1440, (m / 60) % 24);
}

}  // namespace

std::vector<WaitingGroup> waiting_groups(const Session& s, const SelectOptions& select) {
  std::vector<WaitingGroup> out;
  int64_t now = now_unix_ms();
  for (const auto& ds : s.fe.model.datasets) {
    if (!ds.grouped() || s.graph->groups[ds.id].empty() || s.graph->groups[ds.id].back().closed) continue;
    bool picked = select.selectors.empty() ||
                  std::any_of(select.selectors.begin(), select.selectors.end(),
                              [&](const std::string& sel) { return selector_names(sel, ds.name); });
    if (!picked) continue;
    const Group& g = s.graph->groups[ds.id].back();
    // A group not yet recorded (plan before the build that records it) starts waiting now.
    int64_t waited = g.opened_unix_ms > 0 ? std::max<int64_t>(0, now - g.opened_unix_ms) : 0;
    out.push_back({ds.id, &g, waited, ds.group_max_wait_seconds > 0 && waited > ds.group_max_wait_seconds * 1000});
  }
  return out;
}

std::string waiting_text(const Session& s, const WaitingGroup& w) {
  const Model& m = s.fe.model;
  const Dataset& ds = m.datasets[w.dataset];
  bool files = m.datasets[ds.inputs[0].dataset].kind == Dataset::Kind::FileSource;
  std::string out = fmt::format("{}@{}: waiting: {}, for {}", ds.name, w.group->id, group_fill(ds, *w.group, files),
                                duration_text(w.waited_ms));
  if (w.overdue) out += fmt::format(" (over max_wait {})", duration_text(ds.group_max_wait_seconds * 1000));
  return out;
}

int open_session(const CommonOptions& common, const SelectOptions& select, Access access,
                 const std::string& command_line, Session& s) {
  bool ok = true;
  auto vars = parse_vars(common.vars, ok);
  if (!ok) return 64;
  s.fe = load_front_end(common.dir, vars);
  if (!s.fe.ok) {
    if (s.fe.errors) fmt::print(stderr, "{} error{} found\n", s.fe.errors, s.fe.errors == 1 ? "" : "s");
    json_front_end_error(s.fe);
    return 1;
  }
  const Model& m = s.fe.model;
  s.warehouse = warehouse_path(m);
  s.engines = open_engines(m, s.warehouse);
  // A warehouse file SQLite does not take for a database is reported before anything reads it.
  if (Status w = exec::SqliteWarehouse(s.warehouse).probe(); !w.ok()) {
    print_error(s, w.message(), error_code::kWarehouseError);
    return 1;
  }
  if (int rc = open_state(s, access, command_line)) return rc;
  GroupBook book;
  if (int rc = load_groups(s, book)) return rc;
  book.now_unix_ms = now_unix_ms();
  book.flush_table = s.flush_table;
  book.flush_group = s.flush_group;
  exec::EngineLister lister(*s.engines, m);
  ScopedMetric graph_metric("action graph");
  auto graph = build_action_graph(m, lister, &book);
  if (!graph.ok()) {
    print_error(s, graph.status().message(), error_code::kGraphError);
    return 1;
  }
  s.graph = std::make_unique<ActionGraph>(std::move(*graph));
  if (access == Access::kBuild)
    if (int rc = save_groups(s, book)) return rc;
  for (const auto& w : s.graph->warnings) fmt::print(stderr, "dbuild: warning: {}\n", w);
  auto targets = select_actions(*s.graph, select);
  if (!targets.ok()) {
    fmt::print(stderr, "dbuild: error: {}\n", targets.status().message());
    json_error(error_code::kUsage, targets.status().message());
    return 64;
  }
  s.targets = *targets;
  s.selected = s.targets;
  add_upstream(*s.graph, s.selected);
  return 0;
}

}  // namespace dbuild
