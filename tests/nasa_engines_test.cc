// The NASA example on every engine: each table holds the same rows (as multisets, after the
// dialect differences docs/engines.md documents) on SQLite, PostgreSQL and ClickHouse.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <re2/re2.h>

#include "engine/clickhouse/clickhouse_engine.h"
#include "engine/postgres/pg_conn.h"
#include "engine/postgres/postgres_engine.h"
#include "engine/sqlite/sqlite_warehouse.h"
#include "test_clickhouse.h"
#include "test_servers.h"
#include "test_util.h"

namespace dbuild {
namespace {

const char* kTables[] = {"raw_logs", "http_status", "daily_logs", "daily_urls", "daily_url_errors",
                         "daily_url_error_rates"};

/// A value as every engine must agree on it: numbers by value (to 9 significant digits), text
/// as is, except that a timestamp loses its UTC offset (SQLite keeps the offset in the text;
/// PostgreSQL's and ClickHouse's timestamps hold the local time without it).
std::string canonical(const exec::Value& v) {
  static const RE2 kTimestamp(R"((\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})(?:[+-]\d{2}:\d{2})?)");
  if (exec::is_null(v)) return "NULL";
  double d;
  if (const auto* i = std::get_if<int64_t>(&v)) return fmt::format("{}", *i);
  if (const auto* x = std::get_if<double>(&v)) d = *x;
  else {
    const std::string& s = std::get<std::string>(v);
    std::string local;
    if (RE2::FullMatch(s, kTimestamp, &local)) return local;
    if (!exec::parse_double(s, &d)) return "'" + s + "'";
  }
  if (d == std::floor(d) && std::fabs(d) < 1e15) return fmt::format("{}", static_cast<int64_t>(d));
  return fmt::format("{:.9g}", d);
}

/// Every row of `table` as sorted "column=value" lines, read through the engine's session.
std::vector<std::string> rows_of(exec::Engine& engine, const std::string& table) {
  auto session = engine.open();
  REQUIRE_MESSAGE(session.ok(), session.status().message());
  auto rows = (*session)->run_select(fmt::format("SELECT * FROM \"{}\"", table), {});
  REQUIRE_MESSAGE(rows.ok(), table, ": ", rows.status().message());
  std::vector<std::string> out;
  for (const auto& row : rows->rows) {
    std::vector<std::string> cells;
    for (size_t c = 0; c < row.size(); ++c) cells.push_back(rows->columns[c] + "=" + canonical(row[c]));
    std::sort(cells.begin(), cells.end());
    std::string line;
    for (const auto& c : cells) line += c + " ";
    out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Builds the example in `dir`, on connection `name` declared by `connection` (none: the
/// warehouse).
void build_example(const testing::TempDir& dir, const std::string& name = "", const std::string& connection = "",
                   const std::string& env = "") {
  testing::copy_nasa_example(dir.path());
  std::string ws = testing::slurp(dir.sub("workspace.dbuild"));
  if (!name.empty()) {
    size_t at = ws.find("workspace {");
    REQUIRE(at != std::string::npos);
    ws.insert(at + 11, "\n  default_connection = " + name);
  }
  dir.write("workspace.dbuild", ws + connection);
  testing::DbuildIn d{dir.path()};
  d.run("check", env);  // before anything is built: queries prepared against the types a build gives
  CHECK_MESSAGE(d.code == 0, d.err);
  d.run("build", env);
  REQUIRE_MESSAGE(d.code == 0, d.err);
  d.run("test", env);
  CHECK_MESSAGE(d.code == 0, d.err);
}

/// Compares every table of the example on `engine` with the SQLite build in `reference`.
void compare_with_sqlite(const testing::TempDir& reference, exec::Engine& engine) {
  exec::SqliteWarehouse sqlite(reference.sub("warehouse.db"));
  for (const char* table : kTables) {
    CAPTURE(table);
    auto want = rows_of(sqlite, table);
    auto have = rows_of(engine, table);
    CHECK(want.size() > 0);
    CHECK(have.size() == want.size());
    std::vector<std::string> missing, extra;
    std::set_difference(want.begin(), want.end(), have.begin(), have.end(), std::back_inserter(missing));
    std::set_difference(have.begin(), have.end(), want.begin(), want.end(), std::back_inserter(extra));
    CHECK_MESSAGE(missing.empty(), "first missing row: ", missing.empty() ? "" : missing.front());
    CHECK_MESSAGE(extra.empty(), "first extra row: ", extra.empty() ? "" : extra.front());
  }
}

TEST_CASE("nasa example: every table has the same rows on sqlite and postgres") {
  testing::TempDir reference;
  build_example(reference);

  auto server = testing::postgres_settings();
  REQUIRE_MESSAGE(server.ok(), "no PostgreSQL server for the test: ", server.status().message());
  auto admin = exec::pg::PgConn::connect(*server, "public");
  REQUIRE_MESSAGE(admin.ok(), admin.status().message());
  exec::ConnectionSettings settings = *server;
  settings.values["database"] = fmt::format("nasa_{}", ::getpid());
  auto made = (*admin)->exec("CREATE DATABASE " + exec::pg::quote_ident(settings.values["database"]));
  REQUIRE_MESSAGE(made.ok(), made.status().message());
  testing::TempDir pg;
  const auto& v = settings.values;
  build_example(pg, "pg",
                fmt::format("\nconnection pg {{ engine = \"postgres\"  host = \"{}\"  port = {}  database = \"{}\"  "
                            "user = \"{}\" }}\n",
                            v.at("host"), v.at("port"), v.at("database"), v.at("user")));
  auto engine = exec::open_postgres(settings);
  REQUIRE_MESSAGE(engine.ok(), engine.status().message());
  compare_with_sqlite(reference, **engine);
  engine->reset();
  (void)(*admin)->exec("DROP DATABASE IF EXISTS " + exec::pg::quote_ident(settings.values["database"]) + " WITH (FORCE)");
}

TEST_CASE("nasa example: every table has the same rows on sqlite and a clickhouse cluster") {
  testing::TempDir reference;
  build_example(reference);

  testing::ClickhouseTestDb db;
  exec::ConnectionSettings settings = db.settings();
  testing::TempDir ch;
  build_example(ch, "ch",
                fmt::format("\nconnection ch {{ engine = \"clickhouse\"  shards = \"{}\"  cluster = \"{}\"  "
                            "database = \"{}\" }}\n",
                            settings.values.at("shards"), settings.values.at("cluster"), db.name()));
  auto engine = exec::open_clickhouse(settings);
  REQUIRE_MESSAGE(engine.ok(), engine.status().message());
  compare_with_sqlite(reference, **engine);
}

}  // namespace
}  // namespace dbuild
