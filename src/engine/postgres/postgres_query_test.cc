// The PostgreSQL engine's write_query_partition against a real server: input views, checks,
// errors, parameters, interrupts. Each test case works in a database of its own.
#include <chrono>
#include <thread>

#include <doctest/doctest.h>

#include "engine/postgres/postgres_test_util.h"
#include "base/interrupt.h"

namespace dbuild::exec {

using namespace pg_test;  // NOLINT: test helpers

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
  q.sql = "SELECT 1 AS n) AS q; DROP TABLE events; SELECT * FROM (SELECT 1";
  CHECK_FALSE((*s)->write_query_partition(q).ok());
  CHECK_FALSE((*s)->run_select(q.sql, {}).ok());
  q.sql = "WITH d AS (DELETE FROM events RETURNING *) SELECT count(*) AS n FROM d";
  CHECK_FALSE((*s)->write_query_partition(q).ok());
  q.sql = "SELECT 1 AS day";
  r = (*s)->write_query_partition(q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("column `day` clashes with the partition key") != std::string::npos);
  CHECK(db.query("SELECT day, n, users FROM daily") == Rows{{S("w"), I(3), I(2)}});
  CHECK(db.query("SELECT count(*) FROM events") == Rows{{I(6)}});
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
  request_interrupt(15);  // a stop already asked for: nothing starts
  std::string csv = db.dir.write("t.csv", "n\n9\n");
  Result<WriteResult> load = db.s->load_partition("t", {}, LoadSpec{}, csv);
  clear_interrupt();
  REQUIRE_FALSE(load.ok());
  CHECK(load.status().message() == "interrupted");
  CHECK(db.query("SELECT n FROM t") == Rows{{I(1)}});
  q.sql = "SELECT 3 AS n";
  REQUIRE(db.s->write_query_partition(q).ok());
  CHECK(db.query("SELECT n FROM t") == Rows{{I(3)}});
}

TEST_CASE("postgres: writers of one new table at once all succeed") {
  Db db;
  std::vector<std::unique_ptr<EngineSession>> sessions;
  for (int i = 0; i < 4; ++i) sessions.push_back(db.session());
  std::vector<std::string> errors(sessions.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < sessions.size(); ++i) {
    threads.emplace_back([&, i] {
      QuerySpec q;
      q.table = "par";
      q.keys = {{"n", Value(static_cast<int64_t>(i))}};
      // Every second writer brings a column the others lack: the table is created and widened.
      q.sql = i % 2 ? "SELECT 1 AS a, 2 AS b" : "SELECT 1 AS a";
      Result<WriteResult> r = sessions[i]->write_query_partition(q);
      if (!r.ok()) errors[i] = r.status().message();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& e : errors) CHECK_MESSAGE(e.empty(), e);
  CHECK(db.query("SELECT n, a, b FROM par ORDER BY n") ==
        Rows{{I(0), I(1), Value()}, {I(1), I(1), I(2)}, {I(2), I(1), Value()}, {I(3), I(1), I(2)}});
}

}  // namespace dbuild::exec
