// The PostgreSQL engine against a real server (tests/test_servers.h): loads, fingerprints, table
// helpers, prepare, scratch sessions, settings. Each test case works in a database of its own.
#include <doctest/doctest.h>

#include "engine/postgres/postgres_test_util.h"

namespace dbuild::exec {

using namespace pg_test;  // NOLINT: test helpers

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
  Result<std::unique_ptr<Engine>> no_db = open_postgres(ConnectionSettings{"warehouse", {{"host", "h"}}, {}});
  REQUIRE_FALSE(no_db.ok());
  CHECK(no_db.status().message() == "connection `warehouse`: postgres needs a `database` setting");
  ConnectionSettings secret_user = wrong;
  secret_user.secrets = {"password", "user"};
  CHECK(open_postgres(secret_user)->get()->describe().find("dbuild_pw") == std::string::npos);
  Result<std::unique_ptr<EngineSession>> s = e->get()->open();
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().find("password authentication failed") != std::string::npos);
  CHECK(s.status().message().find("not-the-password-xyz") == std::string::npos);
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

}  // namespace dbuild::exec
