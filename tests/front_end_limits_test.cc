// Pathological rule files (deep nesting, long expressions, huge numbers) get a diagnostic
// from the real binary, never a crash.
#include <doctest/doctest.h>

#include "model/model_builder.h"
#include "test_util.h"

namespace dbuild {
namespace {

testing::RunResult check_rules(const testing::TempDir& dir, const std::string& rules) {
  dir.write("workspace.dbuild", rules);
  // Only the first lines: a diagnostic quotes its source line, which may be huge here.
  return testing::run_command("cd " + dir.path() + " && " + testing::dbuild_binary() + " check 2>&1 | cut -c1-200");
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

/// What the front end says about a workspace made of `rules`.
std::string front_end(const std::string& rules) {
  testing::TempDir dir;
  dir.write("workspace.dbuild", rules);
  Workspace ws;
  Diagnostics diags;
  load_workspace(dir.path(), ws, diags);
  build_model(ws, {}, diags);
  return render(diags, ws.files);
}

TEST_CASE("limits: 100000 nested parentheses are refused before parsing") {
  testing::TempDir dir;
  auto r = check_rules(dir, "var x = " + repeat("(", 100000) + "1" + repeat(")", 100000) + "\n");
  CHECK(r.output.find("workspace.dbuild:1:109: error: brackets nested too deeply (more than 100 levels)") !=
        std::string::npos);
  CHECK(r.output.find("1 error found") != std::string::npos);
}

TEST_CASE("limits: 10000 nested parentheses in a mapping and brackets inside strings") {
  testing::TempDir dir;
  auto r = check_rules(dir, "source s { path = \"d/{day}.csv\" format = csv partition day: date }\n"
                            "table t { partition day: date input s[" + repeat("(", 10000) + "day" +
                                repeat(")", 10000) + "] sql \"SELECT 1 AS x FROM s\" }\n");
  CHECK(r.output.find("error: brackets nested too deeply") != std::string::npos);
  // Brackets in strings and comments are text, not nesting.
  CHECK(front_end("var x = \"" + repeat("(", 1000) + "\"  # " + repeat("[", 1000) + "\n"
                  "var y = \"\"\"" + repeat("{", 1000) + "\"\"\"\nvar z = '" + repeat("(", 1000) + "'\n") == "");
}

TEST_CASE("limits: a sum of 8000 terms is too deep an expression") {
  testing::TempDir dir;
  auto r = check_rules(dir, "var x = " + repeat("1 + ", 8000) + "1\n");
  CHECK(r.output.find("workspace.dbuild:1:9: error: expression nested too deeply (more than 200 levels)") !=
        std::string::npos);
  CHECK(r.output.find("1 error found") != std::string::npos);
  // Also as a check condition and a unary chain.
  CHECK(front_end("table t { sql \"SELECT 1 AS x\" check row_count > " + repeat("1 + ", 8000) + "1 }\n")
            .find("expression nested too deeply") != std::string::npos);
  CHECK(front_end("var y = " + repeat("- ", 8000) + "1\n").find("expression nested too deeply") !=
        std::string::npos);
}

TEST_CASE("limits: deep and long templates are refused") {
  std::string deep = front_end("var v = 1\ntable t { sql \"SELECT {{ " + repeat("(", 10000) + "v" +
                               repeat(")", 10000) + " }} AS x\" }\n");
  CHECK(deep.find("error: template nested too deeply (more than 100 levels)") != std::string::npos);
  std::string in_file;
  {
    testing::TempDir dir;
    dir.write("q.sql", "SELECT {{ " + repeat("v + ", 8000) + "v }} AS x");
    dir.write("workspace.dbuild", "var v = 1\ntable t { sql file \"q.sql\" }\n");
    Workspace ws;
    Diagnostics diags;
    load_workspace(dir.path(), ws, diags);
    build_model(ws, {}, diags);
    in_file = render(diags, ws.files);
  }
  CHECK(in_file.find("error: template too long (more than 200 terms)") != std::string::npos);
}

TEST_CASE("limits: a row count beyond 64 bits is an error, not an abort") {
  testing::TempDir dir;
  auto r = check_rules(dir, "table t {\n  sql \"SELECT 1 AS x\"\n  check row_count > 9223372036854775808\n}\n");
  CHECK(r.output ==
        "workspace.dbuild:3:21: error: `9223372036854775808` is not a row count\n"
        " 3 |   check row_count > 9223372036854775808\n"
        "   |                     ^~~~~~~~~~~~~~~~~~~\n"
        "  hint: row_count compares with a whole number from 0 to 9223372036854775807\n"
        "1 error found\n");
  CHECK(front_end("table t { sql \"SELECT 1 AS x\" check row_count > 1.5 }\n").find("`1.5` is not a row count") !=
        std::string::npos);
}

TEST_CASE("limits: a long chain of tables is ordered without deep recursion") {
  std::string rules = "table t0 { sql \"SELECT 1 AS x\" }\n";
  for (int i = 1; i < 100000; ++i)
    rules += "table t" + std::to_string(i) + " { sql \"SELECT x FROM t" + std::to_string(i - 1) + "\" }\n";
  testing::TempDir dir;
  dir.write("workspace.dbuild", rules);
  Workspace ws;
  Diagnostics diags;
  load_workspace(dir.path(), ws, diags);
  Model m = build_model(ws, {}, diags);
  CHECK(render(diags, ws.files) == "");
  REQUIRE(m.datasets.size() == 100000);
  CHECK(m.datasets.front().name == "t0");
  CHECK(m.datasets.back().name == "t99999");
}

TEST_CASE("limits: prune --older-than refuses an age beyond 64 bits") {
  testing::TempDir dir;
  dir.write("workspace.dbuild", "");
  auto r = testing::run_command(testing::dbuild_binary() + " prune --older-than 99999999999999999999d -C " +
                                dir.path());
  CHECK(r.exit_code != 0);
  CHECK(r.output.find("--older-than 99999999999999999999d: expected an age") != std::string::npos);
  r = testing::run_command(testing::dbuild_binary() + " prune --older-than 999999999999999d -C " + dir.path());
  CHECK(r.exit_code != 0);
  CHECK(r.output.find("--older-than 999999999999999d: expected an age") != std::string::npos);
}

}  // namespace
}  // namespace dbuild
