// `dbuild check` through the real binary: what it accepts builds, what it rejects is wrong,
// and its messages are never empty.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include "test_util.h"

namespace dbuild {
namespace {

/// Runs `dbuild ARGS -C DIR` in a workspace made of `rules` (and a one-row CSV source file).
testing::RunResult run_in(const testing::TempDir& dir, const std::string& rules, const std::string& args) {
  dir.write("workspace.dbuild", rules);
  dir.write("data/2024-01-01.csv", "product_id,revenue\n1,10\n");
  dir.write("data/2024-01-02.csv", "product_id,revenue\n2,20\n");
  return testing::run_command(testing::dbuild_binary() + " " + args + " -C " + dir.path());
}

const char* kSource = "source s { path = \"data/{day}.csv\"  format = csv  partition day: date }\n";

TEST_CASE("check accepts queries that read no column of their input") {
  testing::TempDir dir;
  std::string rules = std::string(kSource) +
                      "table counts { partition day: date  sql \"SELECT count(*) AS n FROM s\" }\n"
                      "table ones { sql \"SELECT 1 AS x FROM s\" }\n";
  auto r = run_in(dir, rules, "check");
  CHECK(r.output == "");
  CHECK(r.exit_code == 0);
  auto b = run_in(dir, rules, "build");
  CHECK(b.exit_code == 0);
}

TEST_CASE("check accepts a template over a table source that no column is read from") {
  testing::TempDir dir;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir.sub("wh.db").c_str(), &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "CREATE TABLE orders (id, amount); INSERT INTO orders VALUES (1, 5)", nullptr,
                     nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  std::string rules = "workspace { warehouse = \"wh.db\" }\nvar lim = 3\n"
                      "source orders { table = \"orders\" }\n"
                      "table big { sql \"SELECT {{ lim }} AS x FROM orders\" }\n";
  auto r = run_in(dir, rules, "check");
  CHECK(r.output == "");
  CHECK(r.exit_code == 0);
}

/// `dbuild check` in a workspace made of `rules`, run from its root (paths print relative).
testing::RunResult check_in(const testing::TempDir& dir, const std::string& rules) {
  dir.write("workspace.dbuild", rules);
  return testing::run_command("cd " + dir.path() + " && " + testing::dbuild_binary() + " check");
}

const char* kTwoKeys =
    "source s { path = \"data/{day}/{country}.csv\"  format = csv  partition day: date, country: string }\n";

TEST_CASE("check refuses a command output that does not name every partition key") {
  testing::TempDir dir;
  auto r = check_in(dir, std::string(kTwoKeys) +
                             "table exports {\n"
                             "  partition day: date, country: string\n"
                             "  input s\n"
                             "  command \"cp data/{{ day }}/{{ country }}.csv {{ output }}\"\n"
                             "  output \"out/{day}.csv\"\n"
                             "}\n");
  CHECK(r.exit_code == 1);
  CHECK(r.output ==
        "workspace.dbuild:6:10: error: the output has no `{country}` placeholder for key `country`\n"
        " 6 |   output \"out/{day}.csv\"\n"
        "   |          ^~~~~~~~~~~~~~~\n"
        "  hint: each partition writes its own file, so the output path names every key; otherwise "
        "partitions built at once overwrite one file\n"
        "1 error found\n");
  auto ok = check_in(dir, std::string(kTwoKeys) +
                              "table exports { partition day: date, country: string  input s\n"
                              "  command \"cp data/{{ day }}/{{ country }}.csv {{ output }}\"\n"
                              "  output \"out/{day}/{country}.csv\" }\n");
  CHECK(ok.output == "");
  auto unknown = check_in(dir, std::string(kTwoKeys) +
                                   "table exports { partition day: date, country: string  input s\n"
                                   "  command \"true\"  output \"out/{day}/{country}/{dya}.csv\" }\n");
  CHECK(unknown.output.find("error: placeholder `{dya}` is not a partition key") != std::string::npos);
}

TEST_CASE("check refuses shifts, windows and sizes beyond their bounds") {
  testing::TempDir dir;
  std::string head = std::string(kSource) + "table t {\n  partition day: date\n";
  auto shift = check_in(dir, head + "  input s[day - 9223372036854775807]\n  sql \"SELECT 1 AS x FROM s\"\n}\n");
  CHECK(shift.output ==
        "workspace.dbuild:4:11: error: shift too large: at most 1000000 steps either way\n"
        " 4 |   input s[day - 9223372036854775807]\n"
        "   |           ^~~~~~~~~~~~~~~~~~~~~~~~~\n"
        "  hint: a shift moves by whole steps of the key (days for a date key), as in `day - 6`\n"
        "1 error found\n");
  auto sum = check_in(dir, head + "  input s[day - 600000 - 600000]\n  sql \"SELECT 1 AS x FROM s\"\n}\n");
  CHECK(sum.output.find("4:11: error: shift too large") != std::string::npos);
  auto far = check_in(dir, head + "  input s[day .. day + 3650000]\n  sql \"SELECT 1 AS x FROM s\"\n}\n");
  CHECK(far.output.find("4:18: error: shift too large") != std::string::npos);
  auto wide = check_in(dir, head + "  input s[day - 100000 .. day]\n  sql \"SELECT 1 AS x FROM s\"\n}\n");
  CHECK(wide.output.find("4:11: error: the window reads 100001 partitions, more than 100000") != std::string::npos);
  auto fits = check_in(dir, head + "  input s[day - 99999 .. day]\n  sql \"SELECT 1 AS x FROM s\"\n}\n");
  CHECK(fits.output == "");
  auto size = check_in(dir, head + "  input s\n  sql \"SELECT 1 AS x FROM s\"\n"
                                   "  group { max_size = 999999999999999TB }\n}\n");
  CHECK(size.exit_code == 1);
  CHECK(size.output.find("6:22: error: max_size is a size such as 64MB") != std::string::npos);
  CHECK(size.output.find("1 error found") != std::string::npos);
  auto count = check_in(dir, head + "  input s\n  sql \"SELECT 1 AS x FROM s\"\n"
                                    "  group { max_count = 99999999999999999999 }\n}\n");
  CHECK(count.output.find("6:23: error: max_count is a positive whole number") != std::string::npos);
  auto tmpl = check_in(dir, head + "  input s\n  sql \"SELECT {{ day - 99999999 }} AS x FROM s\"\n}\n");
  CHECK(tmpl.output.find("5:24: error: `99999999` is not a shift of at most 1000000 steps") != std::string::npos);
}

TEST_CASE("check accepts exactly the template functions a build evaluates") {
  testing::TempDir dir;
  std::string head = std::string(kSource) + "table t {\n  partition day: date\n  input s\n";
  for (const char* fn : {"quote(day)", "days_ago(1)"}) {
    auto r = check_in(dir, head + "  sql \"SELECT {{ " + fn + " }} AS x FROM s\"\n}\n");
    CHECK_MESSAGE(r.output.find("error: unknown template function") != std::string::npos, fn);
    CHECK(r.output.find("hint: template functions: month, date, year, hour") != std::string::npos);
  }
  auto hour = check_in(dir, head + "  sql \"SELECT {{ hour(day) }} AS x FROM s\"\n}\n");
  CHECK(hour.output.find("5:23: error: hour() needs an hour key, but `day` is a date key") != std::string::npos);
  // Every function check accepts, a build evaluates.
  std::string rules = head + "  sql \"SELECT {{ year(day) }} AS y, {{ month(day) }} AS m, {{ date(day) }} AS d FROM s\"\n}\n";
  CHECK(check_in(dir, rules).output == "");
  dir.write("data/2024-01-01.csv", "product_id,revenue\n1,10\n");
  auto b = testing::run_command(testing::dbuild_binary() + " build -C " + dir.path());
  CHECK(b.exit_code == 0);
  CHECK(b.output.find("ran 2, up to date 0, cut off 0, failed 0") != std::string::npos);
}

TEST_CASE("check refuses a check on a column the query does not return") {
  testing::TempDir dir;
  std::string rules = std::string(kSource) +
                      "table t {\n  partition day: date\n  input s\n"
                      "  sql \"SELECT product_id, revenue FROM s\"\n"
                      "  check not_null(product_id, revenu)\n"
                      "  check unique(day, product_id)\n"
                      "  check accepted_values(prodct, \"1\")\n"
                      "  check \"no negative revenue\" sql \"SELECT * FROM t WHERE \\\"revenu\\\" < 0\"\n"
                      "}\n";
  dir.write("data/2024-01-01.csv", "product_id,revenue\n1,10\n");
  auto r = check_in(dir, rules);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("workspace.dbuild:6:30: error: `t` has no column `revenu` to check\n"
                      " 6 |   check not_null(product_id, revenu)\n"
                      "   |                              ^~~~~~\n"
                      "  hint: did you mean `revenue`? its columns are `product_id`, `revenue`, `day`\n") !=
        std::string::npos);
  CHECK(r.output.find("8:25: error: `t` has no column `prodct` to check") != std::string::npos);
  CHECK(r.output.find("9:3: error: SQL error in check \"no negative revenue\" of `t`: no such column: revenu") !=
        std::string::npos);
  CHECK(r.output.find("3 errors found") != std::string::npos);
}

TEST_CASE("a build never reads a double-quoted unknown column as a string") {
  testing::TempDir dir;
  // With SQLite's double-quoted string fallback, "revenu" would be the text 'revenu', never
  // NULL: the check would pass on every partition, testing nothing.
  std::string rules = std::string(kSource) +
                      "table t {\n  partition day: date\n  input s\n"
                      "  sql \"SELECT product_id, revenue FROM s\"\n"
                      "  check \"revenue is known\" sql \"SELECT * FROM t WHERE \\\"revenu\\\" IS NULL\"\n"
                      "}\n";
  auto b = run_in(dir, rules, "build");
  CHECK(b.exit_code != 0);
  CHECK(b.output.find("no such column: revenu") != std::string::npos);
}

}  // namespace
}  // namespace dbuild
