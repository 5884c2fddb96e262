// The incremental scenarios (engine_scenarios.h) on a live PostgreSQL server.
#include <doctest/doctest.h>
#include <unistd.h>

#include <fmt/format.h>

#include "engine/postgres/pg_conn.h"
#include "engine_scenarios.h"
#include "test_servers.h"

namespace dbuild {
namespace {

TEST_CASE("engine scenarios: postgres") {
  auto server = testing::postgres_settings();
  REQUIRE_MESSAGE(server.ok(), "no PostgreSQL server for the test: ", server.status().message());
  auto admin = exec::pg::PgConn::connect(*server, "public");
  REQUIRE_MESSAGE(admin.ok(), admin.status().message());
  std::string db = fmt::format("scenarios_{}", ::getpid());
  auto made = (*admin)->exec("CREATE DATABASE " + exec::pg::quote_ident(db));
  REQUIRE_MESSAGE(made.ok(), made.status().message());
  const auto& v = server->values;
  std::string header = fmt::format(
      "connection pg {{\n  engine = \"postgres\"\n  host = \"{}\"\n  port = {}\n  database = \"{}\"\n"
      "  user = \"{}\"\n  password = env(\"DBUILD_SCENARIO_PG_PASSWORD\")\n}}\n"
      "workspace {{ default_connection = pg }}\n",
      v.at("host"), v.at("port"), db, v.at("user"));
  // The test server trusts local connections, so any password works; it must still never show.
  testing::run_engine_scenarios(header, "DBUILD_SCENARIO_PG_PASSWORD=pg-secret-4711", "pg-secret-4711");
  (void)(*admin)->exec("DROP DATABASE IF EXISTS " + exec::pg::quote_ident(db) + " WITH (FORCE)");
}

}  // namespace
}  // namespace dbuild
