// The incremental scenarios (engine_scenarios.h) on a live PostgreSQL server.
#include <doctest/doctest.h>
#include <unistd.h>

#include <memory>

#include <fmt/format.h>

#include "engine/postgres/pg_conn.h"
#include "engine_scenarios.h"
#include "test_servers.h"
#include "test_util.h"

namespace dbuild {
namespace {

/// A database of its own on the test server for one test, dropped at the end, and the rules
/// that put a pipeline there (its password from DBUILD_SCENARIO_PG_PASSWORD).
struct PgWorkspaceDb {
  std::unique_ptr<exec::pg::PgConn> admin;
  std::string name = fmt::format("scenarios_{}_{}", ::getpid(), counter()++);
  std::string header;

  static int& counter() {
    static int n = 0;
    return n;
  }
  PgWorkspaceDb() {
    auto server = testing::postgres_settings();
    REQUIRE_MESSAGE(server.ok(), "no PostgreSQL server for the test: ", server.status().message());
    auto a = exec::pg::PgConn::connect(*server, "public");
    REQUIRE_MESSAGE(a.ok(), a.status().message());
    admin = std::move(*a);
    auto made = admin->exec("CREATE DATABASE " + exec::pg::quote_ident(name));
    REQUIRE_MESSAGE(made.ok(), made.status().message());
    const auto& v = server->values;
    header = fmt::format(
        "connection pg {{\n  engine = \"postgres\"\n  host = \"{}\"\n  port = {}\n  database = \"{}\"\n"
        "  user = \"{}\"\n  password = env(\"DBUILD_SCENARIO_PG_PASSWORD\")\n}}\n"
        "workspace {{ default_connection = pg }}\n",
        v.at("host"), v.at("port"), name, v.at("user"));
  }
  ~PgWorkspaceDb() {
    if (admin) (void)admin->exec("DROP DATABASE IF EXISTS " + exec::pg::quote_ident(name) + " WITH (FORCE)");
  }
};

TEST_CASE("engine scenarios: postgres") {
  PgWorkspaceDb db;
  // The test server trusts local connections, so any password works; it must still never show.
  testing::run_engine_scenarios(db.header, "DBUILD_SCENARIO_PG_PASSWORD=pg-secret-4711", "pg-secret-4711");
}

TEST_CASE("postgres: check prepares each query on the server and reports its errors at their place in the rule file") {
  PgWorkspaceDb db;
  testing::TempDir dir;
  dir.write("workspace.dbuild",
            db.header +
                "format typed { kind = csv  columns { product: string  amount: int } }\n"
                "source orders { path = \"data/{day}.csv\"  format = typed  partition day: date }\n"
                "table totals {\n  partition day: date\n  sql \"\"\"\n    SELECT product, sum(amount) AS total, nosuch\n"
                "    FROM orders GROUP BY product\n  \"\"\"\n}\n");
  dir.write("data/2024-01-01.csv", "product,amount\napple,3\n");
  testing::DbuildIn d{dir.path()};
  d.run("check", "DBUILD_SCENARIO_PG_PASSWORD=x");
  CHECK(d.code == 1);
  CHECK_MESSAGE(d.err.find("workspace.dbuild:15:43: error: SQL error in `totals`: postgres: column \"nosuch\" does not exist") !=
                    std::string::npos,
                d.err);
  CHECK_MESSAGE(d.err.find("hint:") != std::string::npos, d.err);
}


}  // namespace
}  // namespace dbuild
