// SqliteEngine::write_query_partition: input views, key clashes, checks, fingerprints, safety.
#include <doctest/doctest.h>

#include "engine/sqlite/sqlite_test_util.h"
#include "engine/sqlite/sqlite_engine.h"
#include "engine/sqlite/sqlite_stmt.h"

namespace dbuild::exec {

namespace {

using testing::TempDir;
using testing::Rows;
using testing::query;

Value S(const char* s) { return Value(std::string(s)); }
Value I(int64_t i) { return Value(i); }


/// An engine with events(day, user, kind): 3 rows on d1, 2 on d2, 1 on d3.
struct Fixture {
  TempDir dir;
  std::unique_ptr<SqliteEngine> e;

  Fixture() {
    Result<std::unique_ptr<SqliteEngine>> opened = SqliteEngine::open(dir.path() + "/w.db");
    REQUIRE(opened.ok());
    e = std::move(*opened);
    LoadSpec spec;
    spec.columns = {{"user", ColumnType::String, ""}, {"kind", ColumnType::String, ""}};
    load("d1", "user,kind\nann,buy\nbob,view\nann,view\n", spec);
    load("d2", "user,kind\ncy,buy\nann,buy\n", spec);
    load("d3", "user,kind\nbob,refund\n", spec);
  }
  void load(const char* day, const char* text, const LoadSpec& spec) {
    std::string f = dir.write(std::string(day) + ".csv", text);
    Result<WriteResult> r = e->load_partition("events", {{"day", S(day)}}, spec, f);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
  }
};

InputView events(std::vector<const char*> days) {
  InputView in;
  in.table = "events";
  in.key_columns = {"day"};
  for (const char* d : days) in.partitions.push_back({S(d)});
  return in;
}

QuerySpec counts(const char* day, std::vector<const char*> input_days) {
  QuerySpec q;
  q.table = "daily";
  q.keys = {{"day", S(day)}};
  q.sql = "SELECT count(*) AS n, count(DISTINCT user) AS users FROM events";
  q.inputs = {events(std::move(input_days))};
  return q;
}

}  // namespace

TEST_CASE("query: an input view shows only the selected partitions") {
  Fixture f;
  Result<WriteResult> r = f.e->write_query_partition(counts("w1", {"d1", "d2"}));
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->rows == 1);
  REQUIRE(f.e->write_query_partition(counts("w2", {"d3"})).ok());
  REQUIRE(f.e->write_query_partition(counts("none", {})).ok());
  QuerySpec all = counts("all", {});
  all.inputs[0].all = true;
  REQUIRE(f.e->write_query_partition(all).ok());
  CHECK(query(*f.e, "SELECT day, n, users FROM daily ORDER BY day") ==
        Rows{{S("all"), I(6), I(3)}, {S("none"), I(0), I(0)}, {S("w1"), I(5), I(3)},
             {S("w2"), I(1), I(1)}});
  // The temporary views are gone; the connection sees the whole table again.
  CHECK(query(*f.e, "SELECT count(*) FROM sqlite_temp_schema") == Rows{{I(0)}});
  CHECK(query(*f.e, "SELECT count(*) FROM events") == Rows{{I(6)}});
}

TEST_CASE("query: an input view may read a stored table of another name") {
  Fixture f;
  QuerySpec q = counts("w", {"d2"});
  q.sql = "SELECT count(*) AS n, count(DISTINCT user) AS users FROM raw";
  q.inputs[0].table = "raw";
  q.inputs[0].source_table = "events";
  REQUIRE(f.e->write_query_partition(q).ok());
  CHECK(query(*f.e, "SELECT n FROM daily") == Rows{{I(2)}});
}

TEST_CASE("query and load: unpartitioned tables are replaced whole") {
  Fixture f;
  QuerySpec q;
  q.table = "totals";
  q.sql = "SELECT kind, count(*) AS n FROM events GROUP BY kind";
  InputView all = events({});
  all.all = true;
  q.inputs = {all};
  REQUIRE(f.e->write_query_partition(q).ok());
  REQUIRE(f.e->write_query_partition(q).ok());
  CHECK(query(*f.e, "SELECT kind, n FROM totals ORDER BY kind") ==
        Rows{{S("buy"), I(3)}, {S("refund"), I(1)}, {S("view"), I(2)}});
  CHECK(f.e->fingerprint_partition("totals", {})->rows == 3);
  std::string file = f.dir.write("lines.txt", "a\nb\n");
  LoadSpec lines;
  lines.kind = FormatKind::Lines;
  REQUIRE(f.e->load_partition("words", {}, lines, file).ok());
  REQUIRE(f.e->load_partition("words", {}, lines, file).ok());
  CHECK(query(*f.e, "SELECT line FROM words ORDER BY 1") == Rows{{S("a")}, {S("b")}});
}

TEST_CASE("query: a result column named like a key column is an error") {
  Fixture f;
  QuerySpec q = counts("w1", {"d1"});
  q.sql = "SELECT day, count(*) AS n FROM events GROUP BY day";
  Result<WriteResult> r = f.e->write_query_partition(q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "query output column `day` clashes with the partition key; dbuild "
                                "fills key columns — remove it from the SELECT");
  CHECK_FALSE(*f.e->table_exists("daily"));
  q.sql = "SELECT user, user FROM events";
  CHECK(f.e->write_query_partition(q).status().message().find("returns column `user` twice") !=
        std::string::npos);
}

TEST_CASE("query: parameters are bound - missing ones and writes are errors") {
  Fixture f;
  QuerySpec q = counts("w1", {"d1", "d2"});
  q.sql = "SELECT count(*) AS n FROM events WHERE kind = ?1 AND user <> ?2";
  q.params = {S("buy"), S("cy")};
  REQUIRE(f.e->write_query_partition(q).ok());
  CHECK(query(*f.e, "SELECT n FROM daily") == Rows{{I(2)}});
  q.params.pop_back();
  CHECK(f.e->write_query_partition(q).status().message() ==
        "query for `daily`: the SQL uses ?2 but only 1 parameter values are given");
  q.sql = "DELETE FROM main.events";
  CHECK(f.e->write_query_partition(q).status().message() ==
        "query for `daily`: the query may only read data, but it uses DELETE");
  q.sql = "SELECT nope FROM events";
  CHECK(f.e->write_query_partition(q).status().message() ==
        "query for `daily`: no such column: nope (at byte 7 of the SQL)");
  CHECK(query(*f.e, "SELECT n FROM daily") == Rows{{I(2)}});
  CHECK(query(*f.e, "SELECT count(*) FROM sqlite_temp_schema") == Rows{{I(0)}});
}

TEST_CASE("query: a failed check rolls back and the old partition stays") {
  Fixture f;
  QuerySpec q;
  q.table = "users";
  q.keys = {{"day", S("w")}};
  q.sql = "SELECT user, kind FROM events";
  q.inputs = {events({"d2"})};
  CheckSpec not_null{CheckKind::NotNull, "", {"user"}, {}, CompareOp::Ge, 0, ""};
  q.checks = {not_null};
  Result<WriteResult> first = f.e->write_query_partition(q);
  REQUIRE_MESSAGE(first.ok(), first.status().message());

  q.inputs = {events({"d1", "d2", "d3"})};
  q.sql = "SELECT CASE WHEN user = 'bob' THEN NULL ELSE user END AS user, kind FROM events";
  Result<WriteResult> r = f.e->write_query_partition(q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "check not_null(user) failed: 2 rows have NULL in `user`");
  CHECK(query(*f.e, "SELECT user, kind FROM users ORDER BY user") ==
        Rows{{S("ann"), S("buy")}, {S("cy"), S("buy")}});
  CHECK(f.e->fingerprint_partition("users", q.keys)->fingerprint == first->fingerprint);
  CHECK(query(*f.e, "SELECT count(*) FROM sqlite_temp_schema") == Rows{{I(0)}});
}

TEST_CASE("query: check kinds report what failed with examples") {
  Fixture f;
  QuerySpec q;
  q.table = "all_events";
  q.keys = {{"day", S("all")}};
  q.sql = "SELECT user, kind FROM events";
  q.inputs = {events({"d1", "d2", "d3"})};
  CheckSpec unique{CheckKind::Unique, "", {"user"}, {}, CompareOp::Ge, 0, ""};
  CheckSpec accepted{CheckKind::AcceptedValues, "", {"kind"}, {S("buy"), S("view")}, CompareOp::Ge, 0, ""};
  CheckSpec count{CheckKind::RowCount, "", {}, {}, CompareOp::Ge, 10, ""};
  CheckSpec custom{CheckKind::CustomSql, "no_refunds", {}, {},
                   CompareOp::Ge, 0, "SELECT user, kind FROM all_events WHERE kind = 'refund'"};
  q.checks = {unique, accepted, count, custom};
  Result<WriteResult> r = f.e->write_query_partition(q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() ==
        "check unique(user) failed: 5 rows share a value with another row (2 values), e.g. "
        "'ann' (3 rows), 'bob' (2 rows)\n"
        "check accepted_values(kind) failed: 1 rows have other values (1 values), e.g. "
        "'refund' (1 rows)\n"
        "check row_count >= 10 failed: the partition has 6 rows\n"
        "check no_refunds failed: 1 violating rows, e.g. ('bob', 'refund')");
  CHECK_FALSE(*f.e->table_exists("all_events"));

  q.checks = {CheckSpec{CheckKind::RowCount, "", {}, {}, CompareOp::Eq, 6, ""},
              CheckSpec{CheckKind::CustomSql, "", {}, {}, CompareOp::Ge, 0,
                        "SELECT * FROM all_events WHERE day <> 'all'"}};
  r = f.e->write_query_partition(q);
  CHECK_MESSAGE(r.ok(), r.status().message());
}

TEST_CASE("query: fingerprints equal fingerprint_partition and ignore row order") {
  Fixture f;
  QuerySpec q;
  q.table = "copy";
  q.keys = {{"day", S("a")}};
  q.sql = "SELECT user, kind, length(user) AS len, 1.5 AS r, NULL AS z, x'00ff' AS b FROM events "
          "ORDER BY user";
  q.inputs = {events({"d1", "d2"})};
  Result<WriteResult> a = f.e->write_query_partition(q);
  REQUIRE_MESSAGE(a.ok(), a.status().message());
  q.keys = {{"day", S("b")}};
  q.sql += " DESC";
  Result<WriteResult> b = f.e->write_query_partition(q);
  REQUIRE(b.ok());
  CHECK(a->fingerprint == b->fingerprint);
  CHECK(f.e->fingerprint_partition("copy", {{"day", S("a")}})->fingerprint == a->fingerprint);
  q.keys = {{"day", S("c")}};
  q.inputs = {events({"d1"})};
  Result<WriteResult> c = f.e->write_query_partition(q);
  REQUIRE(c.ok());
  CHECK(c->fingerprint != a->fingerprint);
  CHECK(c->rows == 3);

  // A new column (NULL in old rows) leaves the stored fingerprints of other partitions unchanged.
  q.keys = {{"day", S("d")}};
  q.sql = "SELECT user, kind, 7 AS extra FROM events";
  REQUIRE(f.e->write_query_partition(q).ok());
  CHECK(f.e->fingerprint_partition("copy", {{"day", S("a")}})->fingerprint == a->fingerprint);
}

TEST_CASE("query: values SQLite converts on insert still fingerprint consistently") {
  Fixture f;
  REQUIRE(exec_sql(f.e->handle(), "CREATE TABLE typed (day TEXT, n INTEGER, t TEXT)").ok());
  QuerySpec q;
  q.table = "typed";
  q.keys = {{"day", S("x")}};
  q.sql = "SELECT '5' AS n, 6 AS t";  // stored as integer 5 and text '6'
  Result<WriteResult> r = f.e->write_query_partition(q);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(query(*f.e, "SELECT typeof(n), typeof(t) FROM typed") == Rows{{S("integer"), S("text")}});
  CHECK(f.e->fingerprint_partition("typed", q.keys)->fingerprint == r->fingerprint);
}

TEST_CASE("query: a query reading the table it writes sees the old rows") {
  Fixture f;
  QuerySpec q;
  q.table = "running";
  q.keys = {{"day", S("d1")}};
  q.sql = "SELECT count(*) AS n FROM events";
  q.inputs = {events({"d1"})};
  REQUIRE(f.e->write_query_partition(q).ok());
  // d2 = d1's n + d2's events; then recompute d2 from itself: n doubles.
  QuerySpec next;
  next.table = "running";
  next.keys = {{"day", S("d2")}};
  next.sql = "SELECT (SELECT sum(n) FROM running) + (SELECT count(*) FROM events) AS n";
  InputView prev;
  prev.table = "running";
  prev.key_columns = {"day"};
  prev.partitions = {{S("d1")}};
  next.inputs = {prev, events({"d2"})};
  REQUIRE_MESSAGE(f.e->write_query_partition(next).ok(), "");
  CHECK(query(*f.e, "SELECT day, n FROM running ORDER BY day") ==
        Rows{{S("d1"), I(3)}, {S("d2"), I(5)}});
  next.inputs[0].partitions = {{S("d2")}};
  next.sql = "SELECT n * 2 AS n FROM running";
  next.inputs.pop_back();
  REQUIRE(f.e->write_query_partition(next).ok());
  CHECK(query(*f.e, "SELECT day, n FROM running ORDER BY day") ==
        Rows{{S("d1"), I(3)}, {S("d2"), I(10)}});
}

TEST_CASE("query: a partition value with quotes and a semicolon is stored literally") {
  Fixture f;
  const char* evil = "x'); DROP TABLE events; --";
  QuerySpec q = counts(evil, {"d1", evil});
  REQUIRE(f.e->write_query_partition(q).ok());
  CHECK(query(*f.e, "SELECT day, n FROM daily") == Rows{{S(evil), I(3)}});
  CHECK(query(*f.e, "SELECT count(*) FROM events") == Rows{{I(6)}});
  Result<WriteResult> missing = f.e->write_query_partition(counts("x", {}));
  REQUIRE(missing.ok());
  QuerySpec gone = counts("x", {"d1"});
  gone.inputs[0].table = "nope\"; DROP TABLE events; --";
  CHECK(f.e->write_query_partition(gone).status().message() ==
        "input table `nope\"; DROP TABLE events; --` does not exist");
  CHECK(query(*f.e, "SELECT count(*) FROM events") == Rows{{I(6)}});
}

}  // namespace dbuild::exec
