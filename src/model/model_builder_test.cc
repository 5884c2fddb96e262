#include "model/model_builder.h"

#include <doctest/doctest.h>

#include "test_util.h"

namespace dbuild {
namespace {

/// Loads a workspace written into a temp dir; returns rendered diagnostics with the temp
/// dir's prefix removed, and the model.
struct Checked {
  std::string diagnostics;
  Model model;
};

Checked check(const std::map<std::string, std::string>& files,
              const std::map<std::string, std::string>& vars = {}) {
  testing::TempDir dir;
  if (!files.count("workspace.dbuild")) dir.write("workspace.dbuild", "");
  for (const auto& [path, text] : files) dir.write(path, text);
  Workspace ws;
  Diagnostics diags;
  load_workspace(dir.path(), ws, diags);
  Checked out;
  out.model = build_model(ws, ModelOptions{vars}, diags);
  diags.sort();
  out.diagnostics = render(diags, ws.files);
  for (size_t p; (p = out.diagnostics.find(dir.path() + "/")) != std::string::npos;)
    out.diagnostics.erase(p, dir.path().size() + 1);
  return out;
}

const char* kSources = R"(
source raw_logs {
  path = "raw/{month}.log"
  format = lines
  partition month: month
}
source status_codes {
  path = "status.csv"
  format = csv
}
)";

TEST_CASE("a clean workspace has no diagnostics and a topological order") {
  auto c = check({{"sources.dbuild", kSources}, {"t.dbuild", R"(
table daily_urls {
  partition day: date
  sql "SELECT url, count(*) AS hits FROM daily_logs GROUP BY url"
}
table daily_logs {
  partition day: date
  input raw_logs[month(day)]
  sql """
    WITH lines AS (SELECT line FROM raw_logs)
    SELECT line AS url FROM lines JOIN status_codes s ON 1 = 1
  """
}
)"}});
  CHECK(c.diagnostics == "");
  const Model& m = c.model;
  REQUIRE(m.datasets.size() == 4);
  const Dataset* urls = m.find("daily_urls");
  const Dataset* logs = m.find("daily_logs");
  REQUIRE(urls);
  REQUIRE(logs);
  CHECK(logs->id < urls->id);
  REQUIRE(urls->inputs.size() == 1);
  CHECK(urls->inputs[0].dataset == logs->id);
  CHECK(urls->inputs[0].terms[0].kind == MapTerm::Kind::Key);
  // daily_logs: declared raw_logs (month(day)) and inferred status_codes (unpartitioned).
  REQUIRE(logs->inputs.size() == 2);
  CHECK(logs->inputs[0].terms[0].kind == MapTerm::Kind::Month);
  CHECK(logs->inputs[1].dataset == m.find("status_codes")->id);
  CHECK(logs->inputs[1].terms.empty());
}

TEST_CASE("unknown key type: exact diagnostic, no cascade") {
  auto c = check({{"sources.dbuild", kSources}, {"t.dbuild", R"(table t {
  partition day: dat
  input raw_logs[month(day)]
  sql "SELECT * FROM raw_logs"
}
)"}});
  CHECK(c.diagnostics ==
        "t.dbuild:2:18: error: unknown key type `dat`\n"
        " 2 |   partition day: dat\n"
        "   |                  ^~~\n"
        "  hint: key types are date, month, hour, int, string\n");
}

TEST_CASE("a window over a string key is an error") {
  auto c = check({{"t.dbuild", R"(source s { path = "s/{k}.csv" format = csv partition k: string }
table t {
  partition k: string
  input s[k - 1 .. k]
  sql "SELECT * FROM s"
}
)"}});
  CHECK(c.diagnostics ==
        "t.dbuild:4:11: error: cannot shift the string key `k`\n"
        " 4 |   input s[k - 1 .. k]\n"
        "   |           ^~~~~\n"
        "  hint: only date, month, hour and int keys have an order\n");
}

TEST_CASE("a mapping must name keys that exist") {
  auto c = check({{"sources.dbuild", kSources}, {"t.dbuild", R"(table t {
  partition day: date
  input raw_logs[month(dya)]
  sql "SELECT * FROM raw_logs"
}
)"}});
  CHECK(c.diagnostics ==
        "t.dbuild:3:24: error: `dya` is not a partition key of this table\n"
        " 3 |   input raw_logs[month(dya)]\n"
        "   |                        ^~~\n"
        "  hint: the table's keys are: day\n");
}

TEST_CASE("a mapping that cannot be inferred suggests one") {
  auto c = check({{"sources.dbuild", kSources}, {"t.dbuild", R"(table t {
  partition day: date
  sql "SELECT * FROM raw_logs"
})"}});
  CHECK(c.diagnostics ==
        "t.dbuild:3:22: error: cannot tell which partitions of `raw_logs` (key `month: month`) each "
        "partition of `t` reads\n"
        " 3 |   sql \"SELECT * FROM raw_logs\"\n"
        "   |                      ^~~~~~~~\n"
        "  hint: declare the mapping, for example: input raw_logs[month(day)]\n");
}

TEST_CASE("duplicate definitions name the first one") {
  auto c = check({{"a.dbuild", "var x = 1\n"}, {"b.dbuild", "var x = 2\n"}});
  CHECK(c.diagnostics ==
        "b.dbuild:1:5: error: `x` is defined twice\n"
        " 1 | var x = 2\n"
        "   |     ^\n"
        "  hint: the first definition is at a.dbuild:1:5; names of sources, tables, formats, "
        "connections and variables share one namespace\n");
}

TEST_CASE("unknown tables in SQL point into the query, with a suggestion") {
  auto c = check({{"sources.dbuild", kSources}, {"t.dbuild", R"(table t {
  sql """
    SELECT * FROM status_code
  """
})"}});
  CHECK(c.diagnostics ==
        "t.dbuild:3:19: error: unknown table `status_code` in the query of `t`\n"
        " 3 |     SELECT * FROM status_code\n"
        "   |                   ^~~~~~~~~~~\n"
        "  hint: did you mean `status_codes`?\n");
}

TEST_CASE("errors in a .sql file point into that file") {
  auto c = check({{"t.dbuild", "table t {\n  sql file \"q/t.sql\"\n}\n"},
                  {"q/t.sql", "-- counts\nSELECT count(*)\nFROM nowhere\n"}});
  CHECK(c.diagnostics ==
        "q/t.sql:3:6: error: unknown table `nowhere` in the query of `t`\n"
        " 3 | FROM nowhere\n"
        "   |      ^~~~~~~\n"
        "  hint: declare it as a source (source nowhere { table = \"nowhere\" }) or a table\n");
}

TEST_CASE("cycles print their path") {
  auto c = check({{"t.dbuild", "table a { sql \"SELECT * FROM b\" }\ntable b { sql \"SELECT * FROM c\" }\n"
                               "table c { sql \"SELECT * FROM a\" }\n"}});
  CHECK(c.diagnostics ==
        "t.dbuild:1:7: error: dependency cycle: a -> b -> c -> a\n"
        " 1 | table a { sql \"SELECT * FROM b\" }\n"
        "   |       ^\n"
        "  hint: a table cannot read itself, directly or through other tables\n");
}

TEST_CASE("variables: required ones need --var - templates resolve names") {
  const char* rules = "var since\ntable t { sql \"SELECT {{ since }}, {{ sinse }}\" }\n";
  auto c = check({{"t.dbuild", rules}});
  CHECK(c.diagnostics ==
        "t.dbuild:1:5: error: variable `since` has no value\n"
        " 1 | var since\n"
        "   |     ^~~~~\n"
        "  hint: pass --var since=VALUE, or give it a default: var since = ...\n"
        "t.dbuild:2:39: error: unknown name `sinse` in template\n"
        " 2 | table t { sql \"SELECT {{ since }}, {{ sinse }}\" }\n"
        "   |                                       ^~~~~\n"
        "  hint: did you mean `since`?\n");
  auto given = check({{"t.dbuild", "var since\ntable t { sql \"SELECT {{ since }}\" }\n"}},
                     {{"since", "2024-01-01"}});
  CHECK(given.diagnostics == "");
  CHECK(given.model.vars.at("since").value == "2024-01-01");
}

TEST_CASE("a template inside a SQL string literal is refused") {
  auto c = check({{"t.dbuild", "var x = 1\ntable t { sql \"SELECT '{{ x }}'\" }\n"}});
  CHECK(c.diagnostics.find("t.dbuild:2:23: error: a template inside a quoted SQL string is not "
                           "bound safely") == 0);
}

TEST_CASE("secrets must come from the environment") {
  auto c = check({{"c.dbuild", "connection pg {\n  engine = \"postgres\"\n  password = \"hunter2\"\n}\n"}});
  CHECK(c.diagnostics ==
        "c.dbuild:3:14: error: `password` must come from the environment\n"
        " 3 |   password = \"hunter2\"\n"
        "   |              ^~~~~~~~~\n"
        "  hint: write password = env(\"VARIABLE\"); secrets never live in rule files\n");
  auto ok = check({{"c.dbuild", "connection pg {\n  engine = \"postgres\"\n  password = env(\"PGPASSWORD\")\n}\n"}});
  CHECK(ok.diagnostics == "");
  CHECK(ok.model.connections.at(0).env.at("password") == "PGPASSWORD");
}

TEST_CASE("path templates name exactly the partition keys") {
  auto c = check({{"s.dbuild", "source s {\n  path = \"d/{day}.csv\"\n  format = csv\n  partition month: month\n}\n"}});
  CHECK(c.diagnostics.find("s.dbuild:2:10: error: placeholder `{day}` is not a partition key\n") == 0);
  CHECK(c.diagnostics.find("error: the path has no `{month}` placeholder for key `month`") != std::string::npos);
}

TEST_CASE("regex formats: the pattern compiles and has one group per column") {
  auto c = check({{"f.dbuild", "format f {\n  kind = \"regex\"\n  pattern = '^(\\S+) (\\d+)$'\n"
                               "  columns { host: string }\n}\n"}});
  CHECK(c.diagnostics.find("f.dbuild:3:13: error: the pattern has 2 capture groups but the format "
                           "lists 1 columns") == 0);
}

TEST_CASE("checks and tests are read into the model") {
  auto c = check({{"sources.dbuild", kSources}, {"t.dbuild", R"(table t {
  sql "SELECT * FROM status_codes"
  check not_null(code)
  check unique(code, name)
  check accepted_values(kind, "a", "b")
  check row_count >= 3
  check "no negative codes" sql "SELECT * FROM t WHERE code < 0"
  test "copies" {
    given status_codes """
      code | name
      200  | OK
    """
    expect """
      code | name
      200  | OK
    """
  }
})"}});
  CHECK(c.diagnostics == "");
  const Dataset* t = c.model.find("t");
  REQUIRE(t->checks.size() == 5);
  CHECK(t->checks[0].kind == CheckKind::NotNull);
  CHECK(t->checks[1].columns == std::vector<std::string>{"code", "name"});
  CHECK(t->checks[2].values == std::vector<std::string>{"a", "b"});
  CHECK(t->checks[3].op == ">=");
  CHECK(t->checks[3].count == 3);
  CHECK(t->checks[4].label == "no negative codes");
  REQUIRE(t->tests.size() == 1);
  CHECK(t->tests[0].given.at(0).second.rows.at(0) == std::vector<std::string>{"200", "OK"});
  CHECK(t->tests[0].expect.columns == std::vector<std::string>{"code", "name"});
}

TEST_CASE("a test row with a wrong cell count points at the row") {
  auto c = check({{"sources.dbuild", kSources}, {"t.dbuild", R"(table t {
  sql "SELECT * FROM status_codes"
  test "x" {
    given status_codes """
      code | name
      200
    """
    expect "code"
  }
})"}});
  CHECK(c.diagnostics ==
        "t.dbuild:6:7: error: this row has 1 cells but the header has 2\n"
        " 6 |       200\n"
        "   |       ^~~\n"
        "  hint: separate cells with `|`, one per column\n");
}

TEST_CASE("imports load the standard library once") {
  auto c = check({{"a.dbuild", "import \"std/access_log\"\n"}, {"b.dbuild", "import \"std/access_log\"\n"},
                  {"s.dbuild", "source logs { path = \"l/{day}.log\" format = common_log partition day: date }\n"}});
  CHECK(c.diagnostics == "");
  CHECK(c.model.find("logs")->format != kNone);
  auto missing = check({{"a.dbuild", "import \"std/nope\"\n"}});
  CHECK(missing.diagnostics.find("a.dbuild:1:8: error: cannot import \"std/nope\"") == 0);
}

TEST_CASE("syntax errors are reported, several per file") {
  auto c = check({{"t.dbuild", "table a {\n  partition day date\n}\ntable b {\n  sql 42\n}\n"}});
  CHECK(c.diagnostics ==
        "t.dbuild:2:3: error: syntax error: malformed `partition` clause\n"
        " 2 |   partition day date\n"
        "   |   ^~~~~~~~~~~~~~~~~~\n"
        "  hint: write `partition day: date` (key types: date, month, hour, int, string)\n"
        "t.dbuild:5:3: error: syntax error: malformed `sql` clause\n"
        " 5 |   sql 42\n"
        "   |   ^~~~~~\n"
        "  hint: write sql \"\"\"SELECT ...\"\"\" or sql file \"query.sql\"\n");
}

TEST_CASE("executor: a table's slurm settings override the workspace's one by one, in SLURM's forms") {
  auto c = check({{"workspace.dbuild", R"(
workspace {
  executor = slurm
  slurm { queue = "batch" time = 2h mem = 4GB max_jobs = 7 }
}
)"},
                  {"t.dbuild", kSources + std::string(R"(
table sim {
  partition month: month
  input raw_logs[month]
  slurm { cpus = 8 time = "1-12:00:00" mem = "512M" }
  command """simulate {{ month }} > {{ output }}"""
  output "out/{month}.txt"
}
table quick {
  partition month: month
  input raw_logs[month]
  executor = local
  slurm { time = 90s }
  command """echo > {{ output }}"""
  output "quick/{month}.txt"
}
table defaults {
  partition month: month
  input raw_logs[month]
  command """echo > {{ output }}"""
  output "d/{month}.txt"
}
)")}});
  CHECK(c.diagnostics == "");
  const Dataset& sim = *c.model.find("sim");
  CHECK(sim.executor.kind == "slurm");
  CHECK(sim.executor.partition == "batch");
  CHECK(sim.executor.time == "1-12:00:00");
  CHECK(sim.executor.cpus == 8);
  CHECK(sim.executor.mem == "512M");
  const Dataset& quick = *c.model.find("quick");
  CHECK(quick.executor.kind == "local");
  CHECK(quick.executor.time == "1:30");
  const Dataset& d = *c.model.find("defaults");
  CHECK(d.executor.kind == "slurm");
  CHECK(d.executor.time == "120");
  CHECK(d.executor.mem == "4G");
  CHECK(c.model.executor.max_jobs == 7);
}

TEST_CASE("executor: wrong settings are errors at their place, with what to write") {
  auto c = check({{"t.dbuild", kSources + std::string(R"(
table a {
  partition month: month
  input raw_logs[month]
  executor = kubernetes
  slurm { time = "soon" mem = "lots" cpus = 0 max_jobs = 3 }
  command """echo > {{ output }}"""
  output "a/{month}.txt"
}
table b {
  input status_codes
  executor = slurm
  sql "SELECT 1 AS x"
}
)")}});
  CHECK(c.diagnostics.find("t.dbuild:15:14: error: unknown executor `kubernetes`") != std::string::npos);
  CHECK(c.diagnostics.find("executors are `local` (this machine) and `slurm`") != std::string::npos);
  CHECK(c.diagnostics.find("t.dbuild:16:18: error: `soon` is not a time limit") != std::string::npos);
  CHECK(c.diagnostics.find("t.dbuild:16:31: error: `lots` is not an amount of memory") != std::string::npos);
  CHECK(c.diagnostics.find("t.dbuild:16:45: error: cpus is a whole number of CPUs") != std::string::npos);
  CHECK(c.diagnostics.find("unknown attribute `max_jobs` in a table's slurm block") != std::string::npos);
  CHECK(c.diagnostics.find("t.dbuild:22:3: error: `executor` is for command tables") != std::string::npos);
}

}  // namespace
}  // namespace dbuild
