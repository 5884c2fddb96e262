// The PostgreSQL engine against a real server (tests/test_servers.h): each test case works in a
// database of its own, created and dropped around it.
#include "engine/postgres/postgres_engine.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "base/interrupt.h"
#include "engine/postgres/pg_conn.h"
#include "test_servers.h"
#include "test_util.h"

namespace dbuild::exec {

namespace {

using Rows = std::vector<std::vector<Value>>;
using testing::TempDir;

Value S(const char* s) { return Value(std::string(s)); }
Value I(int64_t i) { return Value(i); }
Value D(double d) { return Value(d); }

std::vector<KeyColumn> day(const char* d) { return {{"day", S(d)}}; }

/// A fresh database on the test server, dropped on destruction, with an engine and a session.
struct Db {
  ConnectionSettings settings;
  std::unique_ptr<pg::PgConn> admin;  // on the server's own database: creates and drops ours
  std::unique_ptr<Engine> engine;
  std::unique_ptr<EngineSession> s;
  TempDir dir;

  Db() {
    Result<ConnectionSettings> server = testing::postgres_settings();
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

LoadSpec sales_spec() {
  LoadSpec spec;
  spec.kind = FormatKind::Csv;
  spec.columns = {{"id", ColumnType::Int, ""}, {"amount", ColumnType::Float, ""},
                  {"who", ColumnType::String, ""}};
  return spec;
}

LoadSpec events_spec() {
  LoadSpec spec;
  spec.columns = {{"user", ColumnType::String, ""}, {"kind", ColumnType::String, ""}};
  return spec;
}

/// events(day, user, kind): 3 rows on d1, 2 on d2, 1 on d3.
void load_events(Db& db) {
  db.load("events", day("d1"), events_spec(), "user,kind\nann,buy\nbob,view\nann,view\n");
  db.load("events", day("d2"), events_spec(), "user,kind\ncy,buy\nann,buy\n");
  db.load("events", day("d3"), events_spec(), "user,kind\nbob,refund\n");
}

InputView events(std::vector<const char*> days) {
  InputView in;
  in.table = "events";
  in.key_columns = {"day"};
  for (const char* d : days) in.partitions.push_back({S(d)});
  return in;
}

QuerySpec counts(const char* d, std::vector<const char*> input_days) {
  QuerySpec q;
  q.table = "daily";
  q.keys = day(d);
  q.sql = "SELECT count(*) AS n, count(DISTINCT \"user\") AS users FROM events";
  q.inputs = {events(std::move(input_days))};
  return q;
}

CheckSpec check(CheckKind kind, std::vector<std::string> columns, std::vector<Value> values = {},
                CompareOp op = CompareOp::Ge, int64_t n = 0, std::string sql = "", std::string name = "") {
  return CheckSpec{kind, std::move(name), std::move(columns), std::move(values), op, n, std::move(sql)};
}

}  // namespace

TEST_CASE("postgres: load a CSV partition then replace it, other partitions intact") {
  Db db;
  WriteResult a = db.load("sales", day("2024-03-05"), sales_spec(), "id,amount,who\n1,2.5,ann\n2,3,bob\n");
  CHECK(a.rows == 2);
  db.load("sales", day("2024-03-06"), sales_spec(), "who,id,amount\ncy,3,1\n");
  CHECK(db.query("SELECT column_name::text, data_type::text FROM information_schema.columns "
                 "WHERE table_name = 'sales' ORDER BY ordinal_position") ==
        Rows{{S("day"), S("text")}, {S("id"), S("bigint")}, {S("amount"), S("double precision")},
             {S("who"), S("text")}});
  db.load("sales", day("2024-03-05"), sales_spec(), "id,amount,who\n7,1.25,\"de\te\\\"\"\"\n");
  CHECK(db.query("SELECT day, id, amount, who FROM sales ORDER BY day, id") ==
        Rows{{S("2024-03-05"), I(7), D(1.25), S("de\te\\\"")}, {S("2024-03-06"), I(3), D(1.0), S("cy")}});
  Result<std::vector<std::vector<Value>>> parts = db.s->list_partitions("sales", {"day"});
  REQUIRE(parts.ok());
  CHECK(*parts == Rows{{S("2024-03-05")}, {S("2024-03-06")}});
}

TEST_CASE("postgres: a failing load keeps the old partition and reports the file position") {
  Db db;
  WriteResult first = db.load("sales", day("d1"), sales_spec(), "id,amount,who\n1,1,a\n2,2,b\n");
  std::string bad = db.dir.write("bad.csv", "id,amount,who\n3,3,c\n4,four,d\n5,5,e\n");
  Result<WriteResult> r = db.s->load_partition("sales", day("d1"), sales_spec(), bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == bad + ":3:3: expected a number in column `amount`, found 'four'");
  CHECK(db.query("SELECT id FROM sales ORDER BY id") == Rows{{I(1)}, {I(2)}});
  CHECK(db.s->fingerprint_partition("sales", day("d1"))->fingerprint == first.fingerprint);

  LoadSpec skip = sales_spec();
  skip.skip_malformed = true;
  r = db.s->load_partition("sales", day("d1"), skip, bad);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->rows == 2);
  CHECK(r->skipped_malformed == 1);
  CHECK(r->skipped_lines_sample == std::vector<uint64_t>{3});
  CHECK(db.query("SELECT id FROM sales ORDER BY id") == Rows{{I(3)}, {I(5)}});

  LoadSpec typed;
  typed.columns = {{"ok", ColumnType::Bool, ""}, {"on", ColumnType::Date, ""}, {"at", ColumnType::Timestamp, ""}};
  db.load("typed", {{"n", I(1)}}, typed, "ok,on,at\n1,2024-01-02,2024-01-02T03:04:05Z\n0,,\n");
  CHECK(db.query("SELECT n, ok, \"on\"::text, \"at\"::text FROM typed ORDER BY ok") ==
        Rows{{I(1), I(0), Value(), Value()}, {I(1), I(1), S("2024-01-02"), S("2024-01-02 03:04:05")}});
  CHECK(*db.s->list_partitions("typed", {"n"}) == Rows{{I(1)}});
}

TEST_CASE("postgres: a loaded column named like a key column is an error") {
  Db db;
  std::string f = db.dir.write("x.csv", "day,id\nx,1\n");
  LoadSpec spec;
  Result<WriteResult> r = db.s->load_partition("t", day("d"), spec, f);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("column `day` clashes with the partition key") != std::string::npos);
  CHECK_FALSE(*db.s->table_exists("t"));
}

TEST_CASE("postgres: input views show only the listed partitions") {
  Db db;
  load_events(db);
  Result<WriteResult> r = db.s->write_query_partition(counts("w1", {"d1", "d3"}));
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->rows == 1);
  CHECK(db.query("SELECT day, n, users FROM daily") == Rows{{S("w1"), I(4), I(2)}});
  REQUIRE(db.s->write_query_partition(counts("w2", {})).ok());
  CHECK(db.query("SELECT day, n FROM daily ORDER BY day") == Rows{{S("w1"), I(4)}, {S("w2"), I(0)}});

  QuerySpec all = counts("w3", {});
  all.inputs[0].all = true;
  REQUIRE(db.s->write_query_partition(all).ok());
  CHECK(db.query("SELECT n FROM daily WHERE day = 'w3'") == Rows{{I(6)}});

  QuerySpec other = counts("w4", {"d2"});
  other.inputs[0].table = "ev";
  other.inputs[0].source_table = "events";
  other.sql = "SELECT count(*) AS n FROM ev";
  REQUIRE(db.s->write_query_partition(other).ok());
  CHECK(db.query("SELECT n FROM daily WHERE day = 'w4'") == Rows{{I(2)}});
  CHECK(db.query("SELECT count(*) FROM pg_class WHERE relpersistence = 't'") == Rows{{I(0)}});

  QuerySpec missing = counts("w5", {});
  missing.inputs[0].table = "nope";
  Result<WriteResult> bad = db.s->write_query_partition(missing);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "input table `nope` does not exist");
}

TEST_CASE("postgres: fingerprints ignore row order and see values and duplicates") {
  Db db;
  auto load = [&](const char* name, const char* text) {
    WriteResult r = db.load("sales", day(name), sales_spec(), text);
    Result<WriteResult> stored = db.s->fingerprint_partition("sales", day(name));
    REQUIRE(stored.ok());
    CHECK(stored->fingerprint == r.fingerprint);
    CHECK(stored->rows == r.rows);
    return r.fingerprint;
  };
  Hash128 base = load("p1", "id,amount,who\n1,2.5,ann\n2,3,bob\n");
  CHECK(load("p2", "id,amount,who\n2,3,bob\n1,2.5,ann\n") == base);
  CHECK(load("p3", "id,amount,who\n1,2.5,ann\n2,3,bOb\n") != base);
  CHECK(load("p4", "id,amount,who\n1,2.5,ann\n2,3,bob\n2,3,bob\n") != base);
  CHECK(load("p5", "id,amount,who\n1,2.5,ann\n2,,bob\n") != base);
  CHECK(load("p6", "id,amount,who\n") != base);
  CHECK_FALSE(db.s->fingerprint_partition("nope", day("p1")).ok());

  // A query's fingerprint is the stored partition's; a new all-NULL column changes nothing.
  QuerySpec q;
  q.table = "copy";
  q.keys = day("c");
  q.sql = "SELECT id, amount, who FROM sales ORDER BY id DESC";
  q.inputs = {InputView{"sales", "", {"day"}, false, {{S("p1")}}}};
  Result<WriteResult> w = db.s->write_query_partition(q);
  REQUIRE_MESSAGE(w.ok(), w.status().message());
  CHECK(w->fingerprint == db.s->fingerprint_partition("copy", day("c"))->fingerprint);
  q.keys = day("c2");
  q.sql = "SELECT who, id, amount, NULL::text AS extra FROM sales ORDER BY id";
  Result<WriteResult> w2 = db.s->write_query_partition(q);
  REQUIRE_MESSAGE(w2.ok(), w2.status().message());
  CHECK(w2->fingerprint == w->fingerprint);
  CHECK(db.s->fingerprint_partition("copy", day("c"))->fingerprint == w->fingerprint);
}

TEST_CASE("postgres: a failed check rolls back and keeps the old rows") {
  Db db;
  load_events(db);
  QuerySpec q;
  q.table = "users";
  q.keys = day("w");
  q.sql = "SELECT \"user\", kind FROM events";
  q.inputs = {events({"d2"})};
  q.checks = {check(CheckKind::NotNull, {"user"})};
  Result<WriteResult> first = db.s->write_query_partition(q);
  REQUIRE_MESSAGE(first.ok(), first.status().message());

  q.inputs = {events({"d1", "d2", "d3"})};
  q.sql = "SELECT CASE WHEN \"user\" = 'bob' THEN NULL ELSE \"user\" END AS \"user\", kind FROM events";
  Result<WriteResult> r = db.s->write_query_partition(q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "check not_null(user) failed: 2 rows have NULL in `user`");
  CHECK(db.query("SELECT \"user\", kind FROM users ORDER BY \"user\"") ==
        Rows{{S("ann"), S("buy")}, {S("cy"), S("buy")}});
  CHECK(db.s->fingerprint_partition("users", q.keys)->fingerprint == first->fingerprint);

  q.table = "all_events";
  q.keys = day("all");
  q.sql = "SELECT \"user\", kind FROM events";
  q.checks = {check(CheckKind::Unique, {"user"}),
              check(CheckKind::AcceptedValues, {"kind"}, {S("buy"), S("view")}),
              check(CheckKind::RowCount, {}, {}, CompareOp::Ge, 10),
              check(CheckKind::CustomSql, {}, {}, CompareOp::Ge, 0,
                    "SELECT \"user\", kind FROM all_events WHERE kind = ?1", "no_refunds")};
  q.params = {S("refund")};
  q.sql = "SELECT \"user\", kind FROM events WHERE $1::text IS NOT NULL";
  r = db.s->write_query_partition(q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() ==
        "check unique(user) failed: 5 rows share a value with another row (2 values), e.g. "
        "'ann' (3 rows), 'bob' (2 rows)\n"
        "check accepted_values(kind) failed: 1 rows have other values (1 values), e.g. "
        "'refund' (1 rows)\n"
        "check row_count >= 10 failed: the partition has 6 rows\n"
        "check no_refunds failed: 1 violating rows, e.g. ('bob', 'refund')");
  CHECK_FALSE(*db.s->table_exists("all_events"));
  q.checks = {check(CheckKind::RowCount, {}, {}, CompareOp::Eq, 6),
              check(CheckKind::CustomSql, {}, {}, CompareOp::Ge, 0, "SELECT * FROM all_events WHERE day <> 'all'")};
  r = db.s->write_query_partition(q);
  CHECK_MESSAGE(r.ok(), r.status().message());
}

TEST_CASE("postgres: a query error keeps the old rows and shows no password") {
  Db db;
  load_events(db);
  ConnectionSettings secret = db.settings;
  secret.values["password"] = "hunter2secret";
  secret.secrets = {"password"};
  Result<std::unique_ptr<Engine>> e = open_postgres(secret);
  REQUIRE(e.ok());
  CHECK(e->get()->describe().find("hunter2secret") == std::string::npos);
  CHECK(e->get()->describe().find("postgres ") == 0);
  Result<std::unique_ptr<EngineSession>> s = e->get()->open();
  REQUIRE_MESSAGE(s.ok(), s.status().message());  // the test server trusts this user
  REQUIRE((*s)->write_query_partition(counts("w", {"d1"})).ok());

  QuerySpec q = counts("w", {"d2"});
  q.sql = "SELECT count(*) AS n, sum(hunter2secret) AS users FROM events";
  Result<WriteResult> r = (*s)->write_query_partition(q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("query for `daily`: postgres: column \"***\" does not exist") == 0);
  CHECK(r.status().message().find("hunter2secret") == std::string::npos);
  q.sql = "SELECT 1/0 AS n";
  r = (*s)->write_query_partition(q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "query for `daily`: postgres: division by zero");
  q.sql = "SELECT 1 AS n; DELETE FROM events";
  CHECK_FALSE((*s)->write_query_partition(q).ok());
  q.sql = "WITH d AS (DELETE FROM events RETURNING *) SELECT count(*) AS n FROM d";
  CHECK_FALSE((*s)->write_query_partition(q).ok());
  q.sql = "SELECT 1 AS day";
  r = (*s)->write_query_partition(q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("column `day` clashes with the partition key") != std::string::npos);
  CHECK(db.query("SELECT day, n, users FROM daily") == Rows{{S("w"), I(3), I(2)}});
  CHECK(db.query("SELECT count(*) FROM events") == Rows{{I(6)}});
}

TEST_CASE("postgres: a wrong password fails to connect without showing it") {
  Db db;
  ConnectionSettings wrong = db.settings;
  wrong.values["user"] = "dbuild_pw";  // scripts/pg makes this role need a password
  wrong.values["password"] = "not-the-password-xyz";
  wrong.secrets = {"password"};
  Result<std::unique_ptr<Engine>> e = open_postgres(wrong);
  REQUIRE(e.ok());
  CHECK(e->get()->describe() ==
        fmt::format("postgres dbuild_pw@{}:{}/{}", wrong.values["host"], wrong.values["port"], wrong.values["database"]));
  Result<std::unique_ptr<EngineSession>> s = e->get()->open();
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().find("password authentication failed") != std::string::npos);
  CHECK(s.status().message().find("not-the-password-xyz") == std::string::npos);
}

TEST_CASE("postgres: a query reading the table it writes sees the old rows") {
  Db db;
  QuerySpec q;
  q.table = "counter";
  q.sql = "SELECT 1 AS n";
  REQUIRE(db.s->write_query_partition(q).ok());
  q.sql = "SELECT n + 1 AS n FROM counter UNION ALL SELECT n + 10 FROM counter";
  q.inputs = {InputView{"counter", "", {}, true, {}}};
  REQUIRE(db.s->write_query_partition(q).ok());
  CHECK(db.query("SELECT n FROM counter ORDER BY n") == Rows{{I(2)}, {I(11)}});
  q.inputs = {};
  REQUIRE(db.s->write_query_partition(q).ok());
  CHECK(db.query("SELECT n FROM counter ORDER BY n") == Rows{{I(3)}, {I(12)}, {I(12)}, {I(21)}});
}

TEST_CASE("postgres: table helpers list, delete, columns and count nulls") {
  Db db;
  CHECK(db.s->table_columns("sales")->empty());
  CHECK_FALSE(*db.s->table_exists("sales"));
  CHECK_FALSE(db.s->list_partitions("sales", {"day"}).ok());
  CHECK_FALSE(db.s->count_nulls("sales", "who").ok());
  CHECK(db.s->delete_partition("sales", day("x")).ok());
  std::vector<KeyColumn> k1 = {{"region", S("eu")}, {"n", I(10)}};
  std::vector<KeyColumn> k2 = {{"region", S("eu")}, {"n", I(9)}};
  std::vector<KeyColumn> k3 = {{"region", S("Us")}, {"n", I(1)}};
  db.load("sales", k1, sales_spec(), "id,amount,who\n1,2,\n");
  db.load("sales", k2, sales_spec(), "id,amount,who\n1,,x\n2,,\n");
  db.load("sales", k3, sales_spec(), "id,amount,who\n1,1,y\n");
  CHECK(*db.s->table_exists("sales"));
  CHECK(*db.s->table_columns("sales") == std::vector<std::string>{"region", "n", "id", "amount", "who"});
  CHECK(*db.s->list_partitions("sales", {"region", "n"}) ==
        Rows{{S("Us"), I(1)}, {S("eu"), I(9)}, {S("eu"), I(10)}});
  CHECK(*db.s->count_nulls("sales", "who") == 0);  // an empty String field is '', not NULL
  CHECK(*db.s->count_nulls("sales", "amount") == 2);
  REQUIRE(db.s->delete_partition("sales", k2).ok());
  CHECK(*db.s->list_partitions("sales", {"region", "n"}) == Rows{{S("Us"), I(1)}, {S("eu"), I(10)}});
  CHECK(*db.s->count_nulls("sales", "amount") == 0);
  LoadSpec wider = sales_spec();
  wider.columns.push_back({"extra", ColumnType::Int, ""});
  db.load("sales", k2, wider, "id,amount,who,extra\n5,5,z,7\n");
  CHECK(db.s->table_columns("sales")->back() == "extra");
  CHECK(*db.s->count_nulls("sales", "extra") == 2);
}

TEST_CASE("postgres: prepare returns columns and tables and reports errors with an offset") {
  Db db;
  load_events(db);
  db.load("sales", day("d1"), sales_spec(), "id,amount,who\n1,2,x\n");
  std::unique_ptr<pg::PgConn> c = std::move(*pg::PgConn::connect(db.settings, "public"));
  REQUIRE(c->exec("CREATE VIEW buyers AS SELECT \"user\" FROM events WHERE kind = 'buy'").ok());
  Result<PreparedInfo> p = db.s->prepare(
      "WITH x AS (SELECT * FROM sales) SELECT b.\"user\", count(*) AS n FROM buyers b, x "
      "WHERE x.id > $1 GROUP BY 1;");
  REQUIRE_MESSAGE(p.ok(), p.status().message());
  CHECK(p->columns == std::vector<std::string>{"user", "n"});
  CHECK(p->tables == std::vector<std::string>{"sales", "buyers"});
  CHECK(p->base_tables == std::vector<std::string>{"sales", "events"});

  SqlError err;
  std::string bad = "SELECT id, FROM sales";
  CHECK_FALSE(db.s->prepare(bad, &err).ok());
  CHECK(err.message.find("syntax error") != std::string::npos);
  CHECK(err.offset == static_cast<int>(bad.find("FROM")));
  std::string unknown = "SELECT 'é', nope FROM sales";
  CHECK_FALSE(db.s->prepare(unknown, &err).ok());
  CHECK(err.offset == static_cast<int>(unknown.find("nope")));
  CHECK_FALSE(db.s->prepare("DELETE FROM sales RETURNING id", &err).ok());
  CHECK(err.message.find("only a single read-only SELECT") == 0);
  CHECK_FALSE(db.s->prepare("INSERT INTO sales (id) VALUES (1)", &err).ok());
  CHECK_FALSE(db.s->prepare("SELECT 1; SELECT 2", &err).ok());
  CHECK(db.query("SELECT count(*) FROM sales") == Rows{{I(1)}});
  CHECK(db.query("SELECT count(*) FROM pg_class WHERE relpersistence = 't'") == Rows{{I(0)}});
}

TEST_CASE("postgres: scratch tables shadow stored ones and run_select keeps types") {
  Db db;
  db.load("sales", day("d1"), sales_spec(), "id,amount,who\n1,2,x\n");
  std::unique_ptr<EngineSession> scratch = db.session(/*scratch=*/true);
  RowSet fixture{{"id", "amount", "who", "nothing"},
                 {{I(1), D(1.5), S("a\tb\\c"), Value()}, {I(2), I(3), S("it's"), Value()}}};
  REQUIRE(scratch->create_scratch_table("sales", fixture).ok());
  Result<RowSet> r = scratch->run_select(
      "SELECT id, amount, who, nothing, id = 1 AS first, DATE '2024-01-02' AS d, 1.5::numeric AS num "
      "FROM sales ORDER BY id",
      {});
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->columns == std::vector<std::string>{"id", "amount", "who", "nothing", "first", "d", "num"});
  CHECK(r->rows == Rows{{I(1), D(1.5), S("a\tb\\c"), Value(), I(1), S("2024-01-02"), D(1.5)},
                        {I(2), D(3), S("it's"), Value(), I(0), S("2024-01-02"), D(1.5)}});
  Result<PreparedInfo> p = scratch->prepare("SELECT who FROM sales");
  REQUIRE_MESSAGE(p.ok(), p.status().message());
  CHECK(p->tables == std::vector<std::string>{"sales"});
  CHECK_FALSE(scratch->load_partition("sales", day("d2"), sales_spec(), db.dir.write("s.csv", "id\n1\n")).ok());
  CHECK_FALSE(scratch->run_select("DELETE FROM sales RETURNING id", {}).ok());
  scratch.reset();
  CHECK(db.query("SELECT who FROM sales") == Rows{{S("x")}});
  CHECK(db.s->run_select("SELECT who FROM sales", {})->rows == Rows{{S("x")}});
}

TEST_CASE("postgres: a parameter or key value with a quote is bound and not spliced") {
  Db db;
  CHECK(db.engine->placeholder(0, S("x")) == "$1");
  CHECK(db.engine->placeholder(11, I(3)) == "$12");
  std::string evil = "x'); DROP TABLE t; --";
  QuerySpec q;
  q.table = "t";
  q.keys = {{"day", Value(evil)}};
  q.sql = "SELECT $1 AS v, $2 + 1 AS n, 'a?1$2' AS lit";
  q.params = {Value(evil), I(41)};
  Result<WriteResult> r = db.s->write_query_partition(q);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(db.query("SELECT day, v, n, lit FROM t") == Rows{{Value(evil), Value(evil), I(42), S("a?1$2")}});
  CHECK(*db.s->list_partitions("t", {"day"}) == Rows{{Value(evil)}});
  QuerySpec reader;
  reader.table = "u";
  reader.sql = "SELECT count(*) AS n FROM t";
  reader.inputs = {InputView{"t", "", {"day"}, false, {{Value(evil)}}}};
  REQUIRE(db.s->write_query_partition(reader).ok());
  CHECK(db.query("SELECT n FROM u") == Rows{{I(1)}});
  Result<RowSet> sel = db.s->run_select("SELECT count(*) AS n FROM t WHERE v = $1", {Value(evil)});
  REQUIRE_MESSAGE(sel.ok(), sel.status().message());
  CHECK(sel->rows == Rows{{I(1)}});
  q.params = {Value(evil)};
  CHECK(db.s->write_query_partition(q).status().message() ==
        "query for `t`: the SQL uses $2 but only 1 parameter values are given");
}

TEST_CASE("postgres: the schema setting keeps tables in that schema") {
  Db db;
  ConnectionSettings other = db.settings;
  other.values["schema"] = "My \"Schema\"";
  Result<std::unique_ptr<Engine>> e = open_postgres(other);
  REQUIRE(e.ok());
  CHECK(e->get()->describe().find("schema My \"Schema\"") != std::string::npos);
  std::unique_ptr<EngineSession> s = std::move(*e->get()->open());
  QuerySpec q;
  q.table = "t";
  q.sql = "SELECT 1 AS n";
  REQUIRE_MESSAGE(s->write_query_partition(q).ok(), "write in a new schema");
  CHECK(*s->table_exists("t"));
  CHECK_FALSE(*db.s->table_exists("t"));
  CHECK(db.query("SELECT n FROM \"My \"\"Schema\"\"\".t") == Rows{{I(1)}});
}

TEST_CASE("postgres: an interrupt cancels a long query and rolls back") {
  Db db;
  QuerySpec q;
  q.table = "t";
  q.sql = "SELECT 1 AS n";
  REQUIRE(db.s->write_query_partition(q).ok());
  q.sql = "SELECT 2 AS n FROM pg_sleep(20)";
  std::thread stopper([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    request_interrupt(2);
  });
  auto start = std::chrono::steady_clock::now();
  Result<WriteResult> r = db.s->write_query_partition(q);
  stopper.join();
  clear_interrupt();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("interrupted") != std::string::npos);
  CHECK(db.query("SELECT n FROM t") == Rows{{I(1)}});
  q.sql = "SELECT 3 AS n";
  REQUIRE(db.s->write_query_partition(q).ok());
  CHECK(db.query("SELECT n FROM t") == Rows{{I(3)}});
}

}  // namespace dbuild::exec
