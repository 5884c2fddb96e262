// The incremental scenarios (engine_scenarios.h) on a live two-shard ClickHouse cluster, and a
// write torn between the shards' swaps, recovered by the next build.
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine_scenarios.h"
#include "test_clickhouse.h"
#include "test_util.h"

namespace dbuild {
namespace {

/// Rules that put a pipeline on the test database `db` of the cluster.
std::string cluster_header(const testing::ClickhouseTestDb& db, bool with_password) {
  exec::ConnectionSettings s = db.settings();
  return fmt::format("connection ch {{\n  engine = \"clickhouse\"\n  shards = \"{}\"\n  cluster = \"{}\"\n"
                     "  database = \"{}\"\n{}}}\nworkspace {{ default_connection = ch }}\n",
                     s.values.at("shards"), s.values.at("cluster"), db.name(),
                     with_password ? "  user = \"dbuild_pw\"\n  password = env(\"DBUILD_SCENARIO_CH_PASSWORD\")\n" : "");
}

TEST_CASE("engine scenarios: clickhouse cluster of two shards") {
  testing::ClickhouseTestDb db;
  std::string password = testing::clickhouse_password();
  testing::run_engine_scenarios(cluster_header(db, true), "DBUILD_SCENARIO_CH_PASSWORD=" + password, password);
}

TEST_CASE("clickhouse: a write torn between the shards' swaps is redone by the next build") {
  testing::ClickhouseTestDb db;
  testing::TempDir dir;
  std::string rules = cluster_header(db, false) +
                      "source orders { path = \"data/{day}.csv\"  format = csv  partition day: date }\n"
                      "table totals { partition day: date  sql \"SELECT product, count() AS n FROM orders GROUP BY product\" }\n";
  dir.write("workspace.dbuild", rules);
  std::string rows;
  for (int i = 0; i < 200; ++i) rows += fmt::format("p{},{}\n", i % 17, i);
  dir.write("data/2024-01-01.csv", "product,amount\n" + rows);
  testing::DbuildIn d{dir.path()};
  d.run("build");
  REQUIRE_MESSAGE(d.code == 0, d.err);
  // New rows; the write of totals stops after the first shard's swap (as a kill there would).
  dir.write("data/2024-01-01.csv", "product,amount\n" + rows + rows);
  d.run("build totals", "DBUILD_TEST_CH_FAIL_AFTER_SHARDS=1");
  CHECK(d.code == 1);
  // The partition is not taken as up to date: plan and verify say it was interrupted.
  std::string plan = d.run("plan");
  CHECK(plan.find("totals@2024-01-01") != std::string::npos);
  CHECK(plan.find("interrupted") != std::string::npos);
  std::string verify = d.run("verify");
  CHECK((verify + d.err).find("interrupted") != std::string::npos);
  // The next build redoes it, and the data matches the record again.
  d.run("build");
  CHECK_MESSAGE(d.code == 0, d.err);
  d.run("verify");
  CHECK_MESSAGE(d.code == 0, d.err);
  d.run("plan --exit-code");
  CHECK_MESSAGE(d.code == 0, d.err);
}

TEST_CASE("clickhouse: a build killed between the shards' swaps is redone by the next build") {
  testing::ClickhouseTestDb db;
  testing::TempDir dir;
  dir.write("workspace.dbuild",
            cluster_header(db, false) +
                "source orders { path = \"data/{day}.csv\"  format = csv  partition day: date }\n"
                "table totals { partition day: date  sql \"SELECT product, count() AS n FROM orders GROUP BY product\" }\n");
  std::string rows;
  for (int i = 0; i < 200; ++i) rows += fmt::format("p{},{}\n", i % 17, i);
  dir.write("data/2024-01-01.csv", "product,amount\n" + rows);
  testing::DbuildIn d{dir.path()};
  d.run("build");
  REQUIRE_MESSAGE(d.code == 0, d.err);
  dir.write("data/2024-01-01.csv", "product,amount\n" + rows + rows);
  d.run("build totals", "DBUILD_TEST_CH_FAIL_AFTER_SHARDS=1 DBUILD_TEST_CH_KILL=1");
  CHECK(d.code == 128 + 9);
  std::string plan = d.run("plan");
  CHECK(plan.find("totals@2024-01-01") != std::string::npos);
  d.run("build");
  CHECK_MESSAGE(d.code == 0, d.err);
  d.run("verify");
  CHECK_MESSAGE(d.code == 0, d.err);
  d.run("plan --exit-code");
  CHECK_MESSAGE(d.code == 0, d.err);
}

}  // namespace
}  // namespace dbuild
