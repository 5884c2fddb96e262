#include "cli/commands.h"

#include <map>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/metrics.h"
#include "cli/check_command.h"
#include "cli/engine_factory.h"
#include "cli/format_command.h"
#include "cli/front_end.h"
#include "cli/graph_commands.h"
#include "cli/json_output.h"
#include "cli/report_command.h"
#include "cli/session.h"
#include "cli/state_commands.h"
#include "cli/watch_command.h"
#include "checking/test_runner.h"
#include "lsp/server.h"
#include "model/model_builder.h"

namespace dbuild {
namespace {

void add_common(CLI::App* cmd, CommonOptions& o, bool json) {
  cmd->add_option("-C,--directory", o.dir, "Run in this directory (the workspace is found from it)");
  cmd->add_option("--var", o.vars, "Set a variable: --var NAME=VALUE (repeatable)");
  if (json) cmd->add_flag("--json", o.json, "Print one JSON object for machines (see docs/json.md)");
}

void add_select(CLI::App* cmd, SelectOptions& o) {
  cmd->add_option("targets", o.selectors,
                  "table, table@PARTITION, table@A..B, globs (sales_*), +table (with upstream), table+ "
                  "(with downstream); default: everything");
  cmd->add_option("--from", o.from, "Only partitions on or after this date (2024-03-05)");
  cmd->add_option("--to", o.to, "Only partitions on or before this date");
}

/// Every name or glob given to `dbuild test` selects a table with tests; else says which
/// does not (with the closest table that has tests) and returns false.
bool test_selectors_match(const Model& m, const std::vector<std::string>& selectors) {
  std::vector<std::string> tested;
  for (const auto& ds : m.datasets)
    if (!ds.tests.empty()) tested.push_back(ds.name);
  std::string list;
  for (const auto& n : tested) list += (list.empty() ? "" : ", ") + n;
  std::string available = tested.empty() ? "no table has tests" : "tables with tests: " + list;
  bool ok = true;
  for (const auto& sel : selectors) {
    bool any = false, with_tests = false;
    for (const auto& ds : m.datasets) {
      if (!glob_match(sel, ds.name)) continue;
      any = true;
      with_tests = with_tests || !ds.tests.empty();
    }
    if (with_tests) continue;
    ok = false;
    std::string guess = did_you_mean(sel, tested);
    std::string hint = guess.empty() ? available : fmt::format("did you mean `{}`? {}", guess, available);
    if (any) fmt::print(stderr, "dbuild: error: `{}` has no tests\n  hint: {}\n", sel, hint);
    else fmt::print(stderr, "dbuild: error: no table `{}`\n  hint: {}\n", sel, hint);
  }
  return ok;
}

int cmd_test(const CommonOptions& o, const SelectOptions& select) {
  bool ok = true;
  auto vars = parse_vars(o.vars, ok);
  if (!ok) return 64;
  FrontEnd fe = load_front_end(o.dir, vars);
  if (!fe.ok) {
    fmt::print(stderr, "{} error{} found\n", fe.errors, fe.errors == 1 ? "" : "s");
    return 1;
  }
  if (!test_selectors_match(fe.model, select.selectors)) return 1;
  const Model& m = fe.model;
  auto engines = open_engines(m, warehouse_path(m));
  size_t passed = 0, failed = 0;
  for (const auto& ds : fe.model.datasets) {
    bool wanted = select.selectors.empty() ||
                  std::any_of(select.selectors.begin(), select.selectors.end(),
                              [&](const std::string& s) { return glob_match(s, ds.name); });
    if (!wanted) continue;
    for (const auto& t : exec::run_tests(fe.model, ds, *engines)) {
      fmt::print("{} {}: {}\n", t.passed ? "PASS" : "FAIL", t.table, t.name);
      if (!t.passed) fmt::print("{}", t.detail);
      (t.passed ? passed : failed)++;
    }
  }
  fmt::print("tests: {} passed, {} failed\n", passed, failed);
  return failed ? 1 : 0;
}

std::string command_line(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) out += (i ? " " : "") + std::string(argv[i]);
  return out;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"dbuild: make for data. Builds the partitions of datasets that are out of date."};
  app.set_version_flag("--version", "dbuild 0.1.0");
  app.require_subcommand(1);
  std::string debug;
  app.add_option("-d", debug, "Debugging aid: `-d stats` prints where the time went")
      ->check(CLI::IsMember({"stats"}));
  CommonOptions common;
  SelectOptions select;
  BuildFlags build_flags;
  bool exit_code = false;
  std::string why_target;

  CheckOptions check_options;
  CLI::App* check = app.add_subcommand("check", "Parse and validate every rule file of the workspace");
  add_common(check, common, true);
  check->add_option("--format", check_options.format, "text (compiler-style, on stderr) or json (on stdout)")
      ->check(CLI::IsMember({"text", "json"}));
  check->add_option("files", check_options.files,
                    "Report only the diagnostics in these files (the whole workspace is still checked)");
  check->add_option("--stdin-path", check_options.stdin_path,
                    "Check standard input as the text of this rule file (it may not exist yet); "
                    "report only its diagnostics unless FILES are given");

  CLI::App* build = app.add_subcommand("build", "Bring the selected partitions up to date");
  add_common(build, common, true);
  add_select(build, select);
  build->add_option("-j,--jobs", build_flags.jobs,
                    "Run N engine actions and N local commands at once (default: the number of cores); "
                    "SLURM jobs are limited by the workspace's slurm { max_jobs }");
  build->add_flag("-k,--keep-going", build_flags.keep_going, "Go on with what does not depend on a failure");
  build->add_flag("--force", build_flags.force, "Rebuild the selected partitions even if up to date");
  build->add_flag("-n,--dry-run", build_flags.dry_run, "Print what would run (as plan) and stop");
  build->add_option("--executor", build_flags.executor,
                    "Run every command table on this executor (local or slurm), whatever its rule says")
      ->check(CLI::IsMember({"local", "slurm"}));

  CLI::App* flush = app.add_subcommand("flush", "Build a grouped table's waiting group with what it holds, and close it");
  add_common(flush, common, true);
  flush->add_option("table", build_flags.flush_table, "The grouped table")->required();
  flush->add_option("--group", build_flags.flush_group, "Only if its waiting group is this one (g000003)");

  WatchOptions watch_options;
  CLI::App* watch = app.add_subcommand("watch", "Build the selected partitions again whenever new source files arrive (docs/operations.md)");
  add_common(watch, common, true);
  add_select(watch, select);
  watch->add_option("--debounce", watch_options.debounce_ms, "Wait for this many quiet milliseconds after a change (default 200)");
  watch->add_flag("--no-initial-build", watch_options.no_initial_build, "Do not build at start");
  watch->add_option("-j,--jobs", watch_options.build.jobs, "Run N engine actions and N local commands at once");
  watch->add_flag("-k,--keep-going", watch_options.build.keep_going, "Go on with what does not depend on a failure");

  CLI::App* plan = app.add_subcommand("plan", "List the stale partitions and why");
  add_common(plan, common, true);
  add_select(plan, select);
  plan->add_flag("--exit-code", exit_code, "Exit 2 when anything is stale");
  plan->add_flag("--force", build_flags.force, "Plan as if --force were given to build");

  CLI::App* status = app.add_subcommand("status", "Count up-to-date, stale, missing and failed partitions");
  add_common(status, common, true);
  add_select(status, select);

  CLI::App* why = app.add_subcommand("why", "Say why a partition is stale or up to date");
  add_common(why, common, false);
  why->add_option("target", why_target, "table@PARTITION (or table)")->required();

  CLI::App* test = app.add_subcommand("test", "Run the tests of tables: their query on fixture rows, against expected rows");
  add_common(test, common, false);
  test->add_option("tables", select.selectors, "Tables (globs allowed); default: all");

  CLI::App* mark_done = app.add_subcommand("mark-done", "Record partitions as built from the data already in the warehouse, without running");
  add_common(mark_done, common, false);
  add_select(mark_done, select);

  CLI::App* verify = app.add_subcommand("verify", "Check that every built partition still matches its record");
  add_common(verify, common, false);
  add_select(verify, select);

  bool clear_downstream = false;
  CLI::App* clear = app.add_subcommand("clear", "Forget partitions so the next build recomputes them");
  add_common(clear, common, false);
  add_select(clear, select);
  clear->add_flag("--downstream", clear_downstream, "Also forget everything that reads them");

  size_t history_limit = 20;
  CLI::App* history = app.add_subcommand("history", "List the last runs, newest first");
  add_common(history, common, true);
  history->add_option("-n,--limit", history_limit, "How many runs (default 20)");

  std::string older_than;
  CLI::App* prune = app.add_subcommand("prune", "Forget runs and logs older than an age");
  add_common(prune, common, false);
  prune->add_option("--older-than", older_than, "An age: 30d, 12h, 45m, 90s")->required();

  std::string graph_format = "dot";
  CLI::App* graph = app.add_subcommand("graph", "Print the dataset graph with its mappings");
  add_common(graph, common, false);
  graph->add_option("--format", graph_format, "dot, mermaid or json")->check(CLI::IsMember({"dot", "mermaid", "json"}));

  std::string log_target;
  CLI::App* log = app.add_subcommand("log", "Print the last log of a partition (errors, skipped lines)");
  add_common(log, common, false);
  log->add_option("target", log_target, "table@PARTITION (or table)")->required();

  FormatOptions fmt_options;
  CLI::App* fmt_cmd = app.add_subcommand("fmt", "Rewrite rule files in the canonical layout (docs/language.md, Formatting)");
  fmt_cmd->add_option("-C,--directory", fmt_options.dir, "Run in this directory (the workspace is found from it)");
  fmt_cmd->add_flag("--check", fmt_options.check, "Write nothing; list the files that are not formatted, exit 1 if any");
  fmt_cmd->add_option("files", fmt_options.files, "Rule files, or - for stdin to stdout; default: every rule file of the workspace");
  std::string report_output = "report.html";
  CLI::App* report = app.add_subcommand("report", "Write the state of every partition, the last runs and the failures as one HTML page");
  add_common(report, common, false);
  report->add_option("-o,--output", report_output, "The page to write (default report.html)");
  ServeOptions serve_options;
  CLI::App* serve = app.add_subcommand("serve", "Serve the report page on localhost; it reloads after each build");
  add_common(serve, common, false);
  serve->add_option("--port", serve_options.port, "TCP port (default 8080; 0 picks a free one and prints it)");
  serve->add_option("--host", serve_options.host, "Address to listen on (default 127.0.0.1)");
  CLI::App* lsp = app.add_subcommand("lsp", "Run the language server for editors (LSP over stdin and stdout, see docs/editors.md)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    if (code != 0 && argv_wants_json(argc, argv)) {
      enable_json_errors(true);
      json_error(error_code::kUsage, e.what());
    }
    return code == 0 ? 0 : 64;
  }
  if (common.json) check_options.format = "json";
  enable_json_errors(check_options.format == "json" || common.json || graph_format == "json");
  if (debug == "stats") metrics::enable();
  struct PrintStats {
    ~PrintStats() {
      if (metrics::enabled()) fmt::print(stderr, "{}", metrics::report());
    }
  } print_stats;
  if (check->parsed()) return cmd_check(common, check_options);
  if (build->parsed()) return cmd_build(common, select, build_flags, command_line(argc, argv));
  if (flush->parsed()) select.selectors = {build_flags.flush_table};
  if (flush->parsed()) return cmd_build(common, select, build_flags, command_line(argc, argv));
  if (watch->parsed()) return cmd_watch(common, select, watch_options, command_line(argc, argv));
  if (plan->parsed()) return cmd_plan(common, select, build_flags.force, exit_code);
  if (status->parsed()) return cmd_status(common, select);
  if (why->parsed()) return cmd_why(common, why_target);
  if (verify->parsed()) return cmd_verify(common, select);
  if (test->parsed()) return cmd_test(common, select);
  if (clear->parsed()) return cmd_clear(common, select, clear_downstream, command_line(argc, argv));
  if (history->parsed()) return cmd_history(common, history_limit);
  if (prune->parsed()) return cmd_prune(common, older_than, command_line(argc, argv));
  if (graph->parsed()) return cmd_graph(common, graph_format);
  if (mark_done->parsed()) return cmd_mark_done(common, select, command_line(argc, argv));
  if (log->parsed()) return cmd_log(common, log_target);
  if (fmt_cmd->parsed()) return cmd_fmt(fmt_options);
  if (report->parsed()) return cmd_report(common, report_output);
  if (serve->parsed()) return cmd_serve(common, serve_options);
  if (lsp->parsed()) return lsp::run_stdio({[](const Model& m) { return open_engines(m, warehouse_path(m)); }});
  return 64;
}

}  // namespace dbuild
