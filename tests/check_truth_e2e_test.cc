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

}  // namespace
}  // namespace dbuild
