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

/// A pipeline on the cluster, built once; torn() rewrites its source with more rows and builds
/// `totals` with the test hook stopping the write after the first shard's swap (`env` says how:
/// an error, or a SIGKILL too). Returns the exit code of that build.
struct TornBuild {
  testing::ClickhouseTestDb db;
  testing::TempDir dir;
  testing::DbuildIn d{dir.path()};
  std::string rows;

  TornBuild() {
    dir.write("workspace.dbuild",
              cluster_header(db, false) +
                  "source orders { path = \"data/{day}.csv\"  format = csv  partition day: date }\n"
                  "table totals { partition day: date  sql \"SELECT product, count() AS n FROM orders GROUP BY product\" }\n");
    for (int i = 0; i < 200; ++i) rows += fmt::format("p{},{}\n", i % 17, i);
    dir.write("data/2024-01-01.csv", "product,amount\n" + rows);
    d.run("build");
    REQUIRE_MESSAGE(d.code == 0, d.err);
  }
  int torn(const std::string& env) {
    dir.write("data/2024-01-01.csv", "product,amount\n" + rows + rows);
    d.run("build totals", env);
    return d.code;
  }
  /// The next build redoes the partition, and the data matches the record again.
  void converges() {
    std::string plan = d.run("plan");
    CHECK(plan.find("totals@2024-01-01") != std::string::npos);
    d.run("build");
    CHECK_MESSAGE(d.code == 0, d.err);
    d.run("verify");
    CHECK_MESSAGE(d.code == 0, d.err);
    d.run("plan --exit-code");
    CHECK_MESSAGE(d.code == 0, d.err);
  }
};

TEST_CASE("clickhouse: a write torn between the shards' swaps is redone by the next build") {
  TornBuild b;
  CHECK(b.torn("DBUILD_TEST_CH_FAIL_AFTER_SHARDS=1") == 1);
  // The partition is not taken as up to date: plan and verify say it was interrupted.
  std::string plan = b.d.run("plan");
  CHECK(plan.find("interrupted") != std::string::npos);
  std::string verify = b.d.run("verify");
  CHECK((verify + b.d.err).find("interrupted") != std::string::npos);
  b.converges();
}

TEST_CASE("clickhouse: a build killed between the shards' swaps is redone by the next build") {
  TornBuild b;
  CHECK(b.torn("DBUILD_TEST_CH_FAIL_AFTER_SHARDS=1 DBUILD_TEST_CH_KILL=1") == 128 + 9);
  b.converges();
}

}  // namespace
}  // namespace dbuild
