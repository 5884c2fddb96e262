#pragma once
/// Shared by the PostgreSQL engine's tests: a fresh database per test case on the test server
/// (tests/test_servers.h), dropped afterwards, and small builders for specs and values.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>

#include <fmt/format.h>

#include "engine/postgres/pg_conn.h"
#include "engine/postgres/postgres_engine.h"
#include "test_servers.h"
#include "test_util.h"

namespace dbuild::exec {

namespace pg_test {

using Rows = std::vector<std::vector<Value>>;
using dbuild::testing::TempDir;

inline Value S(const char* s) { return Value(std::string(s)); }
inline Value I(int64_t i) { return Value(i); }
inline Value D(double d) { return Value(d); }

inline std::vector<KeyColumn> day(const char* d) { return {{"day", S(d)}}; }

/// A fresh database on the test server, dropped on destruction, with an engine and a session.
struct Db {
  ConnectionSettings settings;
  std::unique_ptr<pg::PgConn> admin;  // on the server's own database: creates and drops ours
  std::unique_ptr<Engine> engine;
  std::unique_ptr<EngineSession> s;
  TempDir dir;

  Db() {
    Result<ConnectionSettings> server = dbuild::testing::postgres_settings();
    REQUIRE_MESSAGE(server.ok(), "no PostgreSQL server for the test: ", server.status().message());
    settings = *server;
    Result<std::unique_ptr<pg::PgConn>> a = pg::PgConn::connect(settings, "public");
    REQUIRE_MESSAGE(a.ok(), a.status().message());
    admin = std::move(*a);
    static std::atomic<int> counter{0};
    settings.values["database"] = fmt::format("t_{}_{}", ::getpid(), counter++);
    Result<pg::PgResult> made = admin->exec("CREATE DATABASE " + pg::quote_ident(settings.values["database"]));
    REQUIRE_MESSAGE(made.ok(), made.status().message());
    Result<std::unique_ptr<Engine>> e = open_postgres(settings);
    REQUIRE_MESSAGE(e.ok(), e.status().message());
    engine = std::move(*e);
    s = session();
  }
  ~Db() {
    s.reset();
    if (admin) (void)admin->exec("DROP DATABASE IF EXISTS " + pg::quote_ident(settings.values["database"]) + " WITH (FORCE)");
  }

  std::unique_ptr<EngineSession> session(bool scratch = false) {
    Result<std::unique_ptr<EngineSession>> r = scratch ? engine->open_scratch() : engine->open();
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    return std::move(*r);
  }

  /// Every row of the tests' own SQL, run on a connection of its own.
  Rows query(const std::string& sql) {
    Result<std::unique_ptr<pg::PgConn>> c = pg::PgConn::connect(settings, "public");
    REQUIRE_MESSAGE(c.ok(), c.status().message());
    Result<pg::PgResult> r = (*c)->exec(sql);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    Rows rows(static_cast<size_t>(r->rows()));
    for (int i = 0; i < r->rows(); ++i) {
      for (int j = 0; j < r->cols(); ++j) rows[i].push_back(r->value(i, j));
    }
    return rows;
  }

  WriteResult load(const std::string& table, const std::vector<KeyColumn>& keys, const LoadSpec& spec,
                   const std::string& csv) {
    std::string file = dir.write(fmt::format("f{}.csv", files++), csv);
    Result<WriteResult> r = s->load_partition(table, keys, spec, file);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    return *r;
  }
  int files = 0;
};

inline LoadSpec sales_spec() {
  LoadSpec spec;
  spec.kind = FormatKind::Csv;
  spec.columns = {{"id", ColumnType::Int, ""}, {"amount", ColumnType::Float, ""},
                  {"who", ColumnType::String, ""}};
  return spec;
}

inline LoadSpec events_spec() {
  LoadSpec spec;
  spec.columns = {{"user", ColumnType::String, ""}, {"kind", ColumnType::String, ""}};
  return spec;
}

/// events(day, user, kind): 3 rows on d1, 2 on d2, 1 on d3.
inline void load_events(Db& db) {
  db.load("events", day("d1"), events_spec(), "user,kind\nann,buy\nbob,view\nann,view\n");
  db.load("events", day("d2"), events_spec(), "user,kind\ncy,buy\nann,buy\n");
  db.load("events", day("d3"), events_spec(), "user,kind\nbob,refund\n");
}

inline InputView events(std::vector<const char*> days) {
  InputView in;
  in.table = "events";
  in.key_columns = {"day"};
  for (const char* d : days) in.partitions.push_back({S(d)});
  return in;
}

inline QuerySpec counts(const char* d, std::vector<const char*> input_days) {
  QuerySpec q;
  q.table = "daily";
  q.keys = day(d);
  q.sql = "SELECT count(*) AS n, count(DISTINCT \"user\") AS users FROM events";
  q.inputs = {events(std::move(input_days))};
  return q;
}

inline CheckSpec check(CheckKind kind, std::vector<std::string> columns, std::vector<Value> values = {},
                CompareOp op = CompareOp::Ge, int64_t n = 0, std::string sql = "", std::string name = "") {
  return CheckSpec{kind, std::move(name), std::move(columns), std::move(values), op, n, std::move(sql)};
}

}  // namespace pg_test

}  // namespace dbuild::exec
