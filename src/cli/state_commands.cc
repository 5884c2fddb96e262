#include "cli/state_commands.h"

#include <charconv>
#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/json_output.h"
#include "model/mapping.h"

namespace dbuild {
namespace {

/// Parses 30d, 12h, 45m, 90s into milliseconds; nothing for other text or an age that
/// does not fit in 64 bits.
std::optional<int64_t> parse_age(const std::string& text) {
  if (text.size() < 2) return std::nullopt;
  int64_t n = 0;
  const char* digits_end = text.data() + text.size() - 1;
  auto [end, ec] = std::from_chars(text.data(), digits_end, n);
  if (ec != std::errc() || end != digits_end || n < 0) return std::nullopt;
  int64_t unit = 0;
  switch (text.back()) {
    case 'd': unit = 86400000; break;
    case 'h': unit = 3600000; break;
    case 'm': unit = 60000; break;
    case 's': unit = 1000; break;
    default: return std::nullopt;
  }
  int64_t ms = 0;
  if (__builtin_mul_overflow(n, unit, &ms)) return std::nullopt;
  return ms;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string local_time(int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string run_outcome(const RunRecord& r) {
  if (r.finished_unix_ms == 0 || r.exit_status < 0) return "unfinished";
  if (r.exit_status == 0) return "ok";
  if (r.exit_status == 128 + SIGINT) return "interrupted (SIGINT)";
  if (r.exit_status == 128 + SIGTERM) return "interrupted (SIGTERM)";
  if (r.exit_status > 128) return fmt::format("interrupted ({})", r.exit_status - 128);
  return "failed";
}

int cmd_clear(const CommonOptions& common, const SelectOptions& select, bool downstream,
              const std::string& command_line) {
  if (select.selectors.empty()) {
    fmt::print(stderr, "dbuild: error: say what to clear: dbuild clear TABLE[@PARTITION] (or '*' for everything)\n");
    return 64;
  }
  Session s;
  if (int rc = open_session(common, select, Access::kBuild, command_line, s)) return rc;
  std::vector<uint8_t> flags = s.targets;
  if (downstream) add_downstream(*s.graph, flags);
  WriteBatch batch;
  size_t n = 0;
  for (ActionId a = 0; a < s.graph->size(); ++a) {
    if (!flags[a]) continue;
    batch.delete_partition(s.fe.model.datasets[s.graph->dataset_of(a)].name, s.graph->partition_text(a));
    ++n;
  }
  Status st = s.store->commit(batch);
  if (!st.ok()) {
    fmt::print(stderr, "dbuild: error: {}\n", st.message());
    return 1;
  }
  fmt::print("cleared {} partition{}: the next build recomputes them\n", n, n == 1 ? "" : "s");
  return 0;
}

int cmd_history(const CommonOptions& common, size_t limit) {
  auto root = find_workspace_root(common.dir);
  if (!root.ok()) {
    fmt::print(stderr, "dbuild: error: {}\n", root.status().message());
    std::error_code ec;
    json_error(std::filesystem::is_directory(common.dir, ec) ? error_code::kNoWorkspace : error_code::kNoDirectory,
               root.status().message());
    return 1;
  }
  auto opened = StateStore::open(*root + "/.dbuild/state", StateStore::OpenMode::kReadOnly);
  if (!opened.ok() || opened->condition != StateStore::Condition::kUsable) {
    fmt::print("no runs yet\n");
    return 0;
  }
  auto txn = opened->store->read();
  auto runs = txn.ok() ? txn->runs(limit) : Result<std::vector<RunRecord>>(txn.status());
  if (!runs.ok()) {
    fmt::print(stderr, "dbuild: error: {}\n", runs.status().message());
    json_error(error_code::kStateError, runs.status().message());
    return 1;
  }
  if (common.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : *runs)
      out.push_back({{"run", r.run_id}, {"started_unix_ms", r.started_unix_ms}, {"finished_unix_ms", r.finished_unix_ms},
                     {"command", r.command_line}, {"ran", r.counts.ran}, {"up_to_date", r.counts.up_to_date},
                     {"cut_off", r.counts.cut_off}, {"failed", r.counts.failed}, {"exit_status", r.exit_status},
                     {"outcome", run_outcome(r)}});
    fmt::print("{}\n", nlohmann::json{{"runs", out}}.dump());
    return 0;
  }
  fmt::print("{:>5}  {:<19}  {:>8}  {:<18} {:>5} {:>10} {:>7} {:>6}  {}\n", "run", "started", "took", "outcome", "ran",
             "up to date", "cut off", "failed", "command");
  for (const auto& r : *runs) {
    std::string took = r.finished_unix_ms ? fmt::format("{:.2f}s", (r.finished_unix_ms - r.started_unix_ms) / 1000.0)
                                          : "-";
    fmt::print("{:>5}  {:<19}  {:>8}  {:<18} {:>5} {:>10} {:>7} {:>6}  {}\n", r.run_id, local_time(r.started_unix_ms),
               took, run_outcome(r), r.counts.ran, r.counts.up_to_date, r.counts.cut_off, r.counts.failed,
               r.command_line);
  }
  return 0;
}

int cmd_prune(const CommonOptions& common, const std::string& older_than, const std::string& command_line) {
  auto age = parse_age(older_than);
  if (!age) {
    fmt::print(stderr, "dbuild: error: --older-than {}: expected an age such as 30d, 12h, 45m\n", older_than);
    return 64;
  }
  Session s;
  SelectOptions none;
  if (int rc = open_session(common, none, Access::kBuild, command_line, s)) return rc;
  auto pruned = s.store->prune(now_ms() - *age);
  if (!pruned.ok()) {
    fmt::print(stderr, "dbuild: error: {}\n", pruned.status().message());
    return 1;
  }
  fmt::print("pruned {} run{} and {} log{}\n", pruned->runs, pruned->runs == 1 ? "" : "s", pruned->logs,
             pruned->logs == 1 ? "" : "s");
  return 0;
}

int cmd_graph(const CommonOptions& common, const std::string& format) {
  bool ok = true;
  auto vars = parse_vars(common.vars, ok);
  if (!ok) return 64;
  FrontEnd fe = load_front_end(common.dir, vars);
  if (!fe.ok) {
    json_front_end_error(fe);
    return 1;
  }
  const Model& m = fe.model;
  auto keys = [](const Dataset& ds) {
    std::string k;
    for (const auto& key : ds.keys) k += (k.empty() ? "" : ", ") + key.name + ": " + key_type_name(key.type);
    return k;
  };
  if (format == "json") {
    nlohmann::json nodes = nlohmann::json::array(), edges = nlohmann::json::array();
    for (const auto& ds : m.datasets) {
      nodes.push_back({{"dataset", ds.name}, {"source", ds.is_source()}, {"keys", keys(ds)}});
      for (const auto& in : ds.inputs)
        edges.push_back({{"from", m.datasets[in.dataset].name}, {"to", ds.name},
                         {"mapping", describe_mapping(ds, m.datasets[in.dataset], in.terms)}});
    }
    fmt::print("{}\n", nlohmann::json{{"datasets", nodes}, {"edges", edges}}.dump());
    return 0;
  }
  bool dot = format == "dot";
  fmt::print("{}\n", dot ? "digraph dbuild {\n  rankdir=LR;" : "flowchart LR");
  for (const auto& ds : m.datasets) {
    std::string label = ds.keys.empty() ? ds.name : fmt::format("{}{}({})", ds.name, dot ? "\\n" : "<br/>", keys(ds));
    if (dot) fmt::print("  \"{}\" [label=\"{}\", shape={}];\n", ds.name, label, ds.is_source() ? "cylinder" : "box");
    else fmt::print("  {}{}\"{}\"{}\n", ds.name, ds.is_source() ? "[(" : "[", label, ds.is_source() ? ")]" : "]");
  }
  for (const auto& ds : m.datasets)
    for (const auto& in : ds.inputs) {
      std::string mapping = describe_mapping(ds, m.datasets[in.dataset], in.terms);
      if (dot) fmt::print("  \"{}\" -> \"{}\" [label=\"{}\"];\n", m.datasets[in.dataset].name, ds.name, mapping);
      else fmt::print("  {} -->|\"{}\"| {}\n", m.datasets[in.dataset].name, mapping, ds.name);
    }
  if (dot) fmt::print("}}\n");
  return 0;
}

}  // namespace dbuild
