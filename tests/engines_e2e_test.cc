// Engines through the real binary: tables run where their rules say, a second embedded engine
// is as good as the warehouse, and a query never reads across engines.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <string>

#include "test_util.h"

namespace dbuild {
namespace {

/// The single integer `sql` returns from the SQLite file at `path` (-1 on any error).
long long scalar(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  long long out = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

TEST_CASE("engines: tables and sources on a connection are built in that engine, not in the warehouse") {
  testing::TempDir dir;
  dir.write("workspace.dbuild",
            "connection archive { engine = \"sqlite\"  path = \"archive.db\" }\n"
            "source orders { path = \"data/{day}.csv\"  format = csv  partition day: date  engine = archive }\n"
            "table totals { partition day: date  engine = archive  sql \"SELECT count(*) AS n FROM orders\" }\n");
  dir.write("data/2024-01-01.csv", "id\n1\n2\n");
  dir.write("data/2024-01-02.csv", "id\n3\n");
  testing::DbuildIn d{dir.path()};
  d.run("check");
  CHECK_MESSAGE(d.code == 0, d.err);
  d.run("build");
  REQUIRE_MESSAGE(d.code == 0, d.err);
  CHECK(scalar(dir.sub("archive.db"), "SELECT sum(n) FROM totals") == 3);
  CHECK(scalar(dir.sub("archive.db"), "SELECT count(*) FROM orders") == 3);
  CHECK(scalar(dir.sub("warehouse.db"), "SELECT count(*) FROM sqlite_schema WHERE name = 'totals'") <= 0);
  d.run("plan --exit-code");
  CHECK_MESSAGE(d.code == 0, d.err);
  d.run("verify");
  CHECK_MESSAGE(d.code == 0, d.err);
  // A change in that engine's data is seen there: the edited day alone is rebuilt.
  dir.write("data/2024-01-02.csv", "id\n3\n4\n");
  std::string plan = d.run("plan");
  CHECK(plan.find("totals@2024-01-02") != std::string::npos);
  CHECK(plan.find("totals@2024-01-01") == std::string::npos);
}

TEST_CASE("engines: moving a table to another engine rebuilds it there") {
  testing::TempDir dir;
  std::string on_warehouse =
      "connection archive { engine = \"sqlite\"  path = \"archive.db\" }\n"
      "source orders { path = \"data/{day}.csv\"  format = csv  partition day: date }\n"
      "table totals { partition day: date  sql \"SELECT count(*) AS n FROM orders\" }\n";
  dir.write("workspace.dbuild", on_warehouse);
  dir.write("data/2024-01-01.csv", "id\n1\n2\n");
  testing::DbuildIn d{dir.path()};
  d.run("build");
  REQUIRE_MESSAGE(d.code == 0, d.err);
  std::string moved = on_warehouse;
  moved.replace(moved.find("partition day: date }"), 21, "partition day: date  engine = archive }");
  moved.replace(moved.find("partition day: date  sql"), 24, "partition day: date  engine = archive  sql");
  dir.write("workspace.dbuild", moved);
  std::string plan = d.run("plan");
  CHECK(plan.find("definition changed") != std::string::npos);
  d.run("build");
  REQUIRE_MESSAGE(d.code == 0, d.err);
  CHECK(scalar(dir.sub("archive.db"), "SELECT sum(n) FROM totals") == 2);
}

TEST_CASE("engines: a query that reads a table of another engine is a check error with a hint") {
  testing::TempDir dir;
  dir.write("workspace.dbuild",
            "connection archive { engine = \"sqlite\"  path = \"archive.db\" }\n"
            "source orders { path = \"data/{day}.csv\"  format = csv  partition day: date }\n"
            "table totals { partition day: date  engine = archive  sql \"SELECT count(*) AS n FROM orders\" }\n");
  dir.write("data/2024-01-01.csv", "id\n1\n");
  testing::DbuildIn d{dir.path()};
  d.run("check");
  CHECK(d.code == 1);
  CHECK(d.err.find("workspace.dbuild:3:") != std::string::npos);
  CHECK(d.err.find("`totals` runs on connection `archive` and reads `orders`, which is on the workspace's warehouse") !=
        std::string::npos);
  CHECK(d.err.find("hint:") != std::string::npos);
  d.run("build");
  CHECK(d.code == 1);
  CHECK_FALSE(std::filesystem::exists(dir.sub("archive.db")));
}

TEST_CASE("engines: a connection whose secret is not in the environment is refused before anything runs, naming the variable") {
  testing::TempDir dir;
  dir.write("workspace.dbuild",
            "connection pg { engine = \"postgres\"  host = \"localhost\"  database = \"x\"  user = \"u\"  "
            "password = env(\"DBUILD_TEST_UNSET_SECRET\") }\n"
            "source orders { path = \"data/{day}.csv\"  format = csv  partition day: date }\n"
            "table totals { partition day: date  sql \"SELECT count(*) AS n FROM orders\" }\n"
            "source remote { path = \"data/{day}.csv\"  format = csv  partition day: date  engine = pg }\n");
  dir.write("data/2024-01-01.csv", "id\n1\n");
  testing::DbuildIn d{dir.path()};
  d.run("build -k");
  CHECK(d.code == 1);
  CHECK(d.err.find("connection `pg` takes its password from the environment variable DBUILD_TEST_UNSET_SECRET, "
                   "which is not set") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.sub("warehouse.db")));
  d.run("plan");
  CHECK(d.code == 1);
  CHECK(d.err.find("DBUILD_TEST_UNSET_SECRET") != std::string::npos);
}

}  // namespace
}  // namespace dbuild
