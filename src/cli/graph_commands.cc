#include "cli/graph_commands.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "base/interrupt.h"
#include "cli/executor_factory.h"
#include "cli/json_output.h"
#include "eval/verify.h"

namespace dbuild {
namespace {

using exec::ActionState;
using json = nlohmann::json;

/// Graph commands end the process right after printing (main.cc exits without teardown), so
/// their largest objects are not freed one small allocation at a time: on a million actions
/// that would cost more than planning them.
template <typename T>
T& leak(T* object) {
  static std::vector<std::unique_ptr<T>>* keep = new std::vector<std::unique_ptr<T>>();
  keep->emplace_back(object);
  return *object;
}

std::string seconds(int64_t ms) { return fmt::format("{:.2f}s", static_cast<double>(ms) / 1000.0); }

/// Prints a failure at the rule that failed: path:line:col, the line, the engine's message.
void print_failure(const Session& s, ActionId a, const std::string& error) {
  const Dataset& ds = s.fe.model.datasets[s.graph->dataset_of(a)];
  std::string root = s.fe.model.root + "/";
  if (ds.kind == Dataset::Kind::FileSource && error.starts_with(root)) {
    // The loader names the bad line of the data file: that place is the one to show.
    size_t colon = error.find(':', root.size());
    size_t message = error.find(": ", colon == std::string::npos ? root.size() : colon);
    std::string where = display_path(error.substr(0, colon)) +
                        (colon == std::string::npos || message == std::string::npos ? "" : error.substr(colon, message - colon));
    std::string what = message == std::string::npos ? error : error.substr(message + 2);
    fmt::print(stderr, "{}: error: {} failed: {}\n  hint: the file was not loaded; the partition's previous data is kept\n",
               where, s.graph->label(a), what);
    return;
  }
  Diagnostic d;
  d.span = ds.text_span.file != kNoFile ? ds.text_span : ds.span;
  d.span.end = d.span.begin;
  d.message = fmt::format("{} failed: {}", s.graph->label(a), error);
  d.hint = fmt::format("`dbuild log {}` shows the log; the previous data is kept", s.graph->label(a));
  std::fputs(render(d, s.fe.workspace->files).c_str(), stderr);
}

/// The status line on a terminal, plain lines otherwise.
class ProgressPrinter {
 public:
  ProgressPrinter() : tty_(isatty(STDERR_FILENO) != 0) {}
  void update(const exec::Progress& p, const std::string& state_word) {
    if (!tty_) {
      fmt::print(stderr, "[{}/{}] {} {}\n", p.done, p.to_run, state_word, p.last);
      return;
    }
    int64_t eta = p.done ? p.elapsed_ms * static_cast<int64_t>(p.to_run - p.done) / static_cast<int64_t>(p.done) : 0;
    fmt::print(stderr, "\r\033[K[{}/{}] running {} · failed {} · {} · ETA {} · {}", p.done, p.to_run,
               p.running, p.failed, seconds(p.elapsed_ms), seconds(eta), p.last);
    std::fflush(stderr);
  }
  void finish() {
    if (tty_) fmt::print(stderr, "\r\033[K");
  }

 private:
  bool tty_;
};

/// Plans the session's selection; prints the error and returns false when planning fails.
bool plan_session(exec::Evaluator& ev, const Session& s, bool force) {
  Status st = ev.plan(s.selected, force);
  if (!st.ok()) print_error(s, st.message());
  return st.ok();
}


json action_json(const Session& s, ActionId a) {
  const Dataset& ds = s.fe.model.datasets[s.graph->dataset_of(a)];
  return json{{"dataset", ds.name}, {"partition", s.graph->partition_text(a)}};
}

void warn_damaged(const exec::Evaluator& ev) {
  if (ev.damaged_records())
    fmt::print(stderr, "dbuild: warning: {} damaged record{} in the state: treated as never built\n",
               ev.damaged_records(), ev.damaged_records() == 1 ? "" : "s");
}

/// The removals of a plan or a build, for --json.
json removed_json(const Session& s, const std::vector<exec::Orphan>& orphans) {
  json out = json::array();
  for (const auto& o : orphans)
    out.push_back(json{{"dataset", s.fe.model.datasets[o.dataset].name}, {"partition", o.partition},
                       {"reason", o.code}, {"message", o.reason}, {"rows", o.rows}});
  return out;
}

std::string orphan_label(const Session& s, const exec::Orphan& o) {
  const Dataset& ds = s.fe.model.datasets[o.dataset];
  return ds.keys.empty() ? ds.name : ds.name + "@" + o.partition;
}

/// One line per dataset: how many partitions and rows a build removed, and why (the first).
void print_removed(const Session& s, const std::vector<exec::Orphan>& orphans) {
  for (size_t i = 0; i < orphans.size();) {
    size_t j = i, known = 0;
    int64_t rows = 0;
    for (; j < orphans.size() && orphans[j].dataset == orphans[i].dataset; ++j)
      if (orphans[j].rows >= 0) rows += orphans[j].rows, ++known;
    size_t n = j - i;
    fmt::print(stderr, "dbuild: removed {} partition{} of `{}` ({}{} row{}): {}: {}{}\n", n, n == 1 ? "" : "s",
               s.fe.model.datasets[orphans[i].dataset].name, known < n ? "at least " : "", rows, rows == 1 ? "" : "s",
               orphan_label(s, orphans[i]), orphans[i].reason, n > 1 ? fmt::format(", and {} more", n - 1) : "");
    i = j;
  }
}

/// Waiting groups as JSON objects (docs/json.md).
json waiting_json(const Session& s, const std::vector<WaitingGroup>& waiting) {
  json out = json::array();
  for (const auto& w : waiting) {
    const Dataset& ds = s.fe.model.datasets[w.dataset];
    out.push_back(json{{"dataset", ds.name}, {"group", w.group->id}, {"inputs", w.group->members.size()},
                       {"bytes", w.group->bytes}, {"waiting_ms", w.waited_ms}, {"overdue", w.overdue}});
  }
  return out;
}

int print_plan(const Session& s, const exec::Evaluator& ev, bool as_json, bool exit_code,
               const std::vector<WaitingGroup>& waiting) {
  warn_damaged(ev);
  auto orphans = ev.find_orphans();
  if (!orphans.ok()) {
    fmt::print(stderr, "dbuild: error: {}\n", orphans.status().message());
    json_error(error_code::kStateError, orphans.status().message());
    return 1;
  }
  if (!as_json)
    for (const auto& o : *orphans) fmt::print("{}: removed: {}\n", orphan_label(s, o), o.reason);
  size_t stale = 0, up_to_date = 0;
  json actions = json::array();
  for (ActionId a = 0; a < s.graph->size(); ++a) {
    if (!s.selected[a]) continue;
    const auto& info = ev.info()[a];
    if (info.state != ActionState::kStale) {
      ++up_to_date;
      continue;
    }
    ++stale;
    if (as_json) {
      json j = action_json(s, a);
      j["reasons"] = exec::reason_codes(info.reasons);
      actions.push_back(std::move(j));
    } else {
      fmt::print("{}: {}\n", s.graph->label(a), reasons_in_words(s, a, info.reasons));
    }
  }
  bool overdue = std::any_of(waiting.begin(), waiting.end(), [](const WaitingGroup& w) { return w.overdue; });
  if (as_json) {
    json out{{"actions", actions}, {"up_to_date", up_to_date}, {"removed", removed_json(s, *orphans)}};
    if (!waiting.empty()) out["waiting"] = waiting_json(s, waiting);
    fmt::print("{}\n", out.dump(-1, ' ', false, json::error_handler_t::replace));  // old records: any bytes
  } else {
    for (const auto& w : waiting) fmt::print("{}\n", waiting_text(s, w));
    fmt::print("{} stale, {} up to date{}{}\n", stale, up_to_date,
               orphans->empty() ? "" : fmt::format(", {} to remove", orphans->size()),
               waiting.empty() ? "" : fmt::format(", {} group{} waiting", waiting.size(), waiting.size() == 1 ? "" : "s"));
  }
  // A group waiting past its max_wait needs someone to flush it, like stale work to build.
  return exit_code && (stale || !orphans->empty() || overdue) ? 2 : 0;
}

}  // namespace

std::string reasons_in_words(const Session& s, ActionId a, uint32_t reasons) {
  std::string words = exec::reason_words(reasons);
  DatasetId d = s.graph->dataset_of(a);
  if (s.fe.model.datasets[d].kind != Dataset::Kind::FileSource) return words;
  std::string file = fmt::format("file {} changed", s.graph->files[d][s.graph->partition_of(a)]);
  size_t at = words.find("input changed");
  if (at != std::string::npos) words.replace(at, 13, file);
  return words;
}

int cmd_plan(const CommonOptions& common, const SelectOptions& select, bool force, bool exit_code) {
  Session& s = leak(new Session);
  if (int rc = open_session(common, select, Access::kReadOnly, "", s)) return rc;
  exec::Evaluator& ev = leak(new exec::Evaluator(*s.graph, s.store.get(), *s.engines));
  if (!plan_session(ev, s, force)) return 1;
  return print_plan(s, ev, common.json, exit_code, waiting_groups(s, select));
}

/// What `dbuild flush` closed (open_session closed it), or why it closed nothing.
static int report_flush(const Session& s, const BuildFlags& flags) {
  const Dataset* ds = s.fe.model.find(flags.flush_table);
  std::string problem;
  if (!ds) problem = fmt::format("no table `{}`", flags.flush_table);
  else if (!ds->grouped()) problem = fmt::format("`{}` is not grouped: it has no group block", ds->name);
  if (!problem.empty()) {
    fmt::print(stderr, "dbuild: error: {}\n", problem);
    json_error(error_code::kUsage, problem);
    return 64;
  }
  const auto& groups = s.graph->groups[ds->id];
  auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
    return flags.flush_group.empty() ? g.flushed : g.id == flags.flush_group;
  });
  if (!flags.flush_group.empty() && it == groups.end()) {
    problem = fmt::format("`{}` has no group `{}`", ds->name, flags.flush_group);
    fmt::print(stderr, "dbuild: error: {}\n", problem);
    json_error(error_code::kUsage, problem);
    return 64;
  }
  if (it == groups.end() || !it->flushed)
    fmt::print(stderr, "dbuild: `{}` has no waiting group{}; nothing to flush\n", ds->name,
               flags.flush_group.empty() ? "" : " " + flags.flush_group);
  else
    fmt::print(stderr, "dbuild: flushed {}@{} with {} input{}\n", ds->name, it->id, it->members.size(),
               it->members.size() == 1 ? "" : "s");
  return 0;
}

static std::string signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : fmt::format("signal {}", sig);
}

std::string build_summary_words(const exec::BuildSummary& sum) {
  return fmt::format("ran {}, up to date {}, cut off {}, failed {}{}{} in {}", sum.ran, sum.up_to_date,
                     sum.cut_off, sum.failed, sum.not_run ? fmt::format(", not run {}", sum.not_run) : "",
                     sum.removed ? fmt::format(", removed {} partitions no longer produced", sum.removed) : "",
                     seconds(sum.elapsed_ms));
}

BuildRun run_build(const CommonOptions& common, const SelectOptions& select, const BuildFlags& flags,
                   const std::string& command_line, const BuildRunOptions& run_options) {
  BuildRun run;
  Session s;
  s.flush_table = flags.flush_table;
  s.flush_group = flags.flush_group;
  run.code = open_session(common, select, Access::kBuild, command_line, s);
  if (run.code) {
    run.rules_failed = s.fe.workspace && !s.fe.ok;
    run.locked = run.code == 3;
    if (run.rules_failed) run.json = json{{"diagnostics", diagnostics_json(s.fe.diagnostics.items(), s.fe.workspace->files)}};
    return run;
  }
  if (!flags.flush_table.empty()) {
    run.code = report_flush(s, flags);
    if (run.code) return run;
  }
  exec::Evaluator ev(*s.graph, s.store.get(), *s.engines);
  exec::BuildOptions options;
  options.jobs = flags.jobs > 0 ? flags.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.keep_going = flags.keep_going;
  options.force = flags.force;
  options.command_line = command_line;
  options.warehouse_for_commands = s.warehouse;
  auto executors = open_executors(s.fe.model, flags.executor, options.jobs, s.fe.model.root + "/.dbuild");
  if (!executors.ok()) {
    print_error(s, executors.status().message(), error_code::kExecutorError);
    run.code = 1;
    return run;
  }
  options.executors = executors->get();
  ProgressPrinter printer;
  options.on_progress = [&](const exec::Progress& p) {
    if (!common.json && run_options.progress)
      printer.update(p, p.last_failed ? "failed" : p.last_interrupted ? "rolled back" : "ran");
  };
  install_interrupt_handlers();  // SIGINT/SIGTERM: finish or roll back what runs, then stop
  auto sum = ev.build(s.selected, options);
  printer.finish();
  if (ev.damaged_set_aside())
    fmt::print(stderr, "dbuild: {} damaged state record{} set aside; {} partition{} will be rebuilt\n",
               ev.damaged_set_aside(), ev.damaged_set_aside() == 1 ? "" : "s",
               ev.damaged_set_aside() == 1 ? "its" : "their", ev.damaged_set_aside() == 1 ? "" : "s");
  print_removed(s, ev.removed());
  warn_damaged(ev);
  if (!sum.ok()) {
    print_error(s, sum.status().message());
    run.code = 1;
    return run;
  }
  std::string hint;
  for (ActionId a = 0; a < s.graph->size(); ++a) {
    if (ev.info()[a].state != ActionState::kFailed) continue;
    print_failure(s, a, ev.error(a));
    if (hint.empty()) hint = damaged_warehouse_hint(s, ev.error(a));
  }
  std::fputs(hint.c_str(), stderr);
  // Open groups are not actions: say why they were not built.
  for (const auto& w : waiting_groups(s, select)) fmt::print(stderr, "dbuild: {}\n", waiting_text(s, w));
  if (common.json) {
    json actions = json::array();
    for (ActionId a = 0; a < s.graph->size(); ++a) {
      if (!s.selected[a]) continue;
      json j = action_json(s, a);
      j["result"] = exec::state_code(ev.info()[a].state);
      actions.push_back(std::move(j));
    }
    run.json = json{{"ran", sum->ran},         {"up_to_date", sum->up_to_date}, {"cut_off", sum->cut_off},
                    {"failed", sum->failed},   {"not_run", sum->not_run},       {"removed", sum->removed},
                    {"removed_partitions", removed_json(s, ev.removed())},
                    {"actions", actions}};
    if (sum->interrupted_by) {
      run.json["interrupted_by"] = signal_name(sum->interrupted_by);
      run.json["rolled_back"] = sum->rolled_back;
    }
  }
  run.summary = *sum;
  if (sum->interrupted_by) {
    fmt::print(stderr, "dbuild: interrupted by {}: {} running action{} rolled back, {} not started; "
                       "the next build goes on from here\n",
               signal_name(sum->interrupted_by),
               sum->rolled_back, sum->rolled_back == 1 ? " was" : "s were",
               sum->not_run - std::min(sum->not_run, sum->rolled_back));
    run.code = 128 + sum->interrupted_by;
  } else {
    run.code = sum->failed || sum->not_run ? 1 : 0;
  }
  return run;
}

int cmd_build(const CommonOptions& common, const SelectOptions& select, const BuildFlags& flags,
              const std::string& command_line) {
  if (flags.dry_run) return cmd_plan(common, select, flags.force, false);
  BuildRun run = run_build(common, select, flags, command_line);
  if (!run.summary) return run.code;
  if (common.json) fmt::print("{}\n", run.json.dump(-1, ' ', false, json::error_handler_t::replace));
  else fmt::print("dbuild: {}\n", build_summary_words(*run.summary));
  return run.code;
}

int cmd_status(const CommonOptions& common, const SelectOptions& select) {
  Session s;
  if (int rc = open_session(common, select, Access::kReadOnly, "", s)) return rc;
  exec::Evaluator ev(*s.graph, s.store.get(), *s.engines);
  if (!plan_session(ev, s, false)) return 1;
  struct Counts { size_t total = 0, up_to_date = 0, stale = 0, missing = 0, failed = 0; };
  std::vector<Counts> counts(s.fe.model.datasets.size());
  for (ActionId a = 0; a < s.graph->size(); ++a) {
    if (!s.targets[a]) continue;
    Counts& c = counts[s.graph->dataset_of(a)];
    const auto& info = ev.info()[a];
    ++c.total;
    if (info.state != ActionState::kStale) ++c.up_to_date;
    else if (info.reasons & exec::kFailedBefore) ++c.failed;
    else if (info.reasons & exec::kNew) ++c.missing;
    else ++c.stale;
  }
  json out = json::array();
  if (!common.json)
    fmt::print("{:<32} {:>10} {:>10} {:>7} {:>7} {:>7}\n", "dataset", "partitions", "up to date", "stale",
               "missing", "failed");
  for (const auto& ds : s.fe.model.datasets) {
    const Counts& c = counts[ds.id];
    if (c.total == 0 && !select.selectors.empty()) continue;
    if (common.json)
      out.push_back(json{{"dataset", ds.name}, {"partitions", c.total}, {"up_to_date", c.up_to_date},
                         {"stale", c.stale}, {"missing", c.missing}, {"failed", c.failed}});
    else
      fmt::print("{:<32} {:>10} {:>10} {:>7} {:>7} {:>7}\n", ds.name, c.total, c.up_to_date, c.stale,
                 c.missing, c.failed);
  }
  auto waiting = waiting_groups(s, select);
  if (common.json) {
    json j{{"datasets", out}};
    if (!waiting.empty()) j["waiting"] = waiting_json(s, waiting);
    fmt::print("{}\n", j.dump());
  } else {
    for (const auto& w : waiting) fmt::print("{}\n", waiting_text(s, w));
  }
  return 0;
}

int cmd_why(const CommonOptions& common, const std::string& target) {
  Session s;
  SelectOptions select;
  select.selectors = {target};
  if (int rc = open_session(common, select, Access::kReadOnly, "", s)) return rc;
  exec::Evaluator ev(*s.graph, s.store.get(), *s.engines);
  if (!plan_session(ev, s, false)) return 1;
  for (ActionId a = 0; a < s.graph->size(); ++a) {
    if (!s.targets[a]) continue;
    const auto& info = ev.info()[a];
    if (info.state != ActionState::kStale) {
      fmt::print("{} is up to date\n", s.graph->label(a));
      continue;
    }
    fmt::print("{} is stale: {}\n", s.graph->label(a), reasons_in_words(s, a, info.reasons));
    if (info.reasons & exec::kInputChanged)
      for (ActionId in : ev.changed_inputs(a)) {
        const auto& ii = ev.info()[in];
        if (ii.state == ActionState::kStale)
          fmt::print("  input {} will be rebuilt: {}\n", s.graph->label(in), reasons_in_words(s, in, ii.reasons));
        else
          fmt::print("  input {} changed since it was last read\n", s.graph->label(in));
      }
  }
  return 0;
}

int cmd_mark_done(const CommonOptions& common, const SelectOptions& select, const std::string& command_line) {
  Session s;
  if (int rc = open_session(common, select, Access::kBuild, command_line, s)) return rc;
  exec::Evaluator ev(*s.graph, s.store.get(), *s.engines);
  auto n = ev.adopt(s.selected, command_line);
  if (!n.ok()) {
    fmt::print(stderr, "dbuild: error: {}\n", n.status().message());
    return 1;
  }
  fmt::print("marked {} partition{} done\n", *n, *n == 1 ? "" : "s");
  return 0;
}

int cmd_verify(const CommonOptions& common, const SelectOptions& select) {
  Session s;
  if (int rc = open_session(common, select, Access::kReadOnly, "", s)) return rc;
  if (!s.store) {
    fmt::print("nothing was built yet: nothing to verify\n");
    return 0;
  }
  size_t checked = 0;
  auto bad = exec::verify_outputs(*s.graph, *s.store, *s.engines, &checked);
  if (!bad.ok()) {
    print_error(s, bad.status().message());
    return 1;
  }
  size_t mismatches = 0;
  for (const auto& m : *bad) {
    fmt::print("{}: {}\n", m.label, m.problem);
    mismatches += !m.interrupted;
  }
  size_t interrupted = bad->size() - mismatches;
  fmt::print("verified {} partition{}: {} mismatch{}{}\n", checked, checked == 1 ? "" : "s", mismatches,
             mismatches == 1 ? "" : "es",
             interrupted ? fmt::format(", {} interrupted (stale until rebuilt)", interrupted) : "");
  return mismatches == 0 ? 0 : 1;
}

int cmd_log(const CommonOptions& common, const std::string& target) {
  Session s;
  SelectOptions select;
  select.selectors = {target};
  if (int rc = open_session(common, select, Access::kReadOnly, "", s)) return rc;
  if (!s.store) {
    fmt::print("nothing was built yet: no logs\n");
    return 0;
  }
  auto txn = s.store->read();
  if (!txn.ok()) {
    fmt::print(stderr, "dbuild: error: {}\n", txn.status().message());
    return 1;
  }
  for (ActionId a = 0; a < s.graph->size(); ++a) {
    if (!s.targets[a]) continue;
    const Dataset& ds = s.fe.model.datasets[s.graph->dataset_of(a)];
    auto log = txn->latest_log(ds.name, s.graph->partition_text(a));
    if (!log.ok()) {
      fmt::print(stderr, "dbuild: error: {}\n", log.status().message());
      return 1;
    }
    if (!*log) fmt::print("{}: no log\n", s.graph->label(a));
    else fmt::print("{} (run {}):\n{}\n", s.graph->label(a), (*log)->run_id, (*log)->text);
  }
  return 0;
}

}  // namespace dbuild
