#include "engine/sqlite/sqlite_engine.h"

#include <doctest/doctest.h>

#include "engine/sqlite/sqlite_test_util.h"
#include "engine/sqlite/sqlite_stmt.h"

namespace dbuild::exec {

namespace {

using testing::TempDir;
using testing::Rows;
using testing::query;

Value S(const char* s) { return Value(std::string(s)); }
Value I(int64_t i) { return Value(i); }

std::unique_ptr<SqliteEngine> open_engine(const TempDir& dir, EngineOptions options = {}) {
  Result<std::unique_ptr<SqliteEngine>> e = SqliteEngine::open(dir.path() + "/w.db", options);
  REQUIRE(e.ok());
  return std::move(*e);
}


std::vector<KeyColumn> day(const char* d) { return {{"day", S(d)}}; }

LoadSpec sales_spec() {
  LoadSpec spec;
  spec.kind = FormatKind::Csv;
  spec.columns = {{"id", ColumnType::Int, ""}, {"amount", ColumnType::Float, ""},
                  {"who", ColumnType::String, ""}};
  return spec;
}

}  // namespace

TEST_CASE("open: WAL, synchronous FULL, foreign keys off") {
  TempDir dir;
  auto e = open_engine(dir);
  CHECK(query(*e, "PRAGMA journal_mode") == Rows{{S("wal")}});
  CHECK(query(*e, "PRAGMA synchronous") == Rows{{I(2)}});
  CHECK(query(*e, "PRAGMA foreign_keys") == Rows{{I(0)}});
  CHECK_FALSE(SqliteEngine::open(dir.path() + "/no/such/dir/x.db").ok());
}

TEST_CASE("load_partition creates a typed table, and a reload replaces only its partition") {
  TempDir dir;
  auto e = open_engine(dir);
  std::string a = dir.write("a.csv", "id,amount,who\n1,2.5,ann\n2,3,bob\n");
  std::string b = dir.write("b.csv", "who,id,amount\ncy,3,1\n");
  Result<WriteResult> r = e->load_partition("sales", day("2024-03-05"), sales_spec(), a);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->rows == 2);
  REQUIRE(e->load_partition("sales", day("2024-03-06"), sales_spec(), b).ok());
  CHECK(query(*e, "SELECT name, type FROM pragma_table_info('sales')") ==
        Rows{{S("day"), S("TEXT")}, {S("id"), S("INTEGER")}, {S("amount"), S("REAL")},
             {S("who"), S("TEXT")}});

  std::string a2 = dir.write("a2.csv", "id,amount,who\n7,1.25,dee\n");
  REQUIRE(e->load_partition("sales", day("2024-03-05"), sales_spec(), a2).ok());
  CHECK(query(*e, "SELECT day, id, amount, who FROM sales ORDER BY day, id") ==
        Rows{{S("2024-03-05"), I(7), Value(1.25), S("dee")},
             {S("2024-03-06"), I(3), Value(1.0), S("cy")}});
  Result<std::vector<std::vector<Value>>> parts = e->list_partitions("sales", {"day"});
  REQUIRE(parts.ok());
  CHECK(*parts == Rows{{S("2024-03-05")}, {S("2024-03-06")}});
  CHECK(query(*e, "SELECT count(*) FROM sqlite_schema WHERE name = 'dbuild_key_sales'") == Rows{{I(1)}});
}

TEST_CASE("a failing load leaves the previous partition intact") {
  TempDir dir;
  auto e = open_engine(dir);
  std::string good = dir.write("good.csv", "id,amount,who\n1,1,a\n2,2,b\n");
  std::string bad = dir.write("bad.csv", "id,amount,who\n3,3,c\n4,four,d\n5,5,e\n");
  Result<WriteResult> first = e->load_partition("sales", day("d1"), sales_spec(), good);
  REQUIRE(first.ok());
  Result<WriteResult> r = e->load_partition("sales", day("d1"), sales_spec(), bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == bad + ":3:3: expected a number in column `amount`, found 'four'");
  CHECK(query(*e, "SELECT id FROM sales ORDER BY id") == Rows{{I(1)}, {I(2)}});
  Result<WriteResult> fp = e->fingerprint_partition("sales", day("d1"));
  REQUIRE(fp.ok());
  CHECK(fp->fingerprint == first->fingerprint);

  LoadSpec skip = sales_spec();
  skip.skip_malformed = true;
  r = e->load_partition("sales", day("d1"), skip, bad);
  REQUIRE(r.ok());
  CHECK(r->rows == 2);
  CHECK(r->skipped_malformed == 1);
  CHECK(r->skipped_lines_sample == std::vector<uint64_t>{3});
  CHECK(query(*e, "SELECT id FROM sales ORDER BY id") == Rows{{I(3)}, {I(5)}});
}

TEST_CASE("fingerprints: row order does not count, values and duplicates do") {
  TempDir dir;
  auto e = open_engine(dir);
  auto load = [&](const char* name, const char* text) {
    Result<WriteResult> r =
        e->load_partition("sales", day(name), sales_spec(), dir.write(std::string(name) + ".csv", text));
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    Result<WriteResult> stored = e->fingerprint_partition("sales", day(name));
    REQUIRE(stored.ok());
    CHECK(stored->fingerprint == r->fingerprint);
    CHECK(stored->rows == r->rows);
    return r->fingerprint;
  };
  Hash128 base = load("p1", "id,amount,who\n1,2.5,ann\n2,3,bob\n");
  CHECK(load("p2", "id,amount,who\n2,3,bob\n1,2.5,ann\n") == base);
  CHECK(load("p3", "id,amount,who\n1,2.5,ann\n2,3,bOb\n") != base);
  CHECK(load("p4", "id,amount,who\n1,2.5,ann\n2,3,bob\n2,3,bob\n") != base);
  CHECK(load("p5", "id,amount,who\n1,2.5,ann\n2,,bob\n") != base);
  CHECK(load("p6", "id,amount,who\n") != base);
  Result<WriteResult> missing = e->fingerprint_partition("nope", day("p1"));
  CHECK_FALSE(missing.ok());
}

TEST_CASE("partition values and names with quotes are stored literally and drop nothing") {
  TempDir dir;
  auto e = open_engine(dir);
  std::string f = dir.write("a.csv", "id,amount,who\n1,1,x\n");
  const char* evil = "x'); DROP TABLE t; --";
  REQUIRE(e->load_partition("t", day("keep"), sales_spec(), f).ok());
  REQUIRE(e->load_partition("t", {{"day", S(evil)}}, sales_spec(), f).ok());
  REQUIRE(e->load_partition("we\"ird; DROP TABLE t", {{"d\"ay", S(evil)}}, sales_spec(), f).ok());
  CHECK(query(*e, "SELECT day FROM t ORDER BY day") == Rows{{S("keep")}, {S(evil)}});
  CHECK(query(*e, "SELECT \"d\"\"ay\" FROM \"we\"\"ird; DROP TABLE t\"") == Rows{{S(evil)}});
  REQUIRE(e->delete_partition("t", {{"day", S(evil)}}).ok());
  CHECK(query(*e, "SELECT day FROM t") == Rows{{S("keep")}});
}

TEST_CASE("a loaded column named like a key column is an error") {
  TempDir dir;
  auto e = open_engine(dir);
  std::string f = dir.write("a.csv", "Day,v\nx,1\n");
  LoadSpec spec;
  Result<WriteResult> r = e->load_partition("t", day("d1"), spec, f);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == f + ": column `Day` clashes with the partition key; dbuild fills "
                                    "key columns — rename or drop the column");
  CHECK_FALSE(*e->table_exists("t"));
}

TEST_CASE("table helpers: exists, columns, delete, list") {
  TempDir dir;
  auto e = open_engine(dir);
  CHECK_FALSE(*e->table_exists("sales"));
  CHECK(e->table_columns("sales")->empty());
  CHECK(e->delete_partition("sales", day("d")).ok());
  CHECK_FALSE(e->list_partitions("sales", {"day"}).ok());
  std::string f = dir.write("a.csv", "id,amount,who\n1,1,x\n");
  REQUIRE(e->load_partition("sales", {{"day", S("d")}, {"shard", I(3)}}, sales_spec(), f).ok());
  CHECK(*e->table_exists("SALES"));
  CHECK(*e->table_columns("sales") == std::vector<std::string>{"day", "shard", "id", "amount", "who"});
  CHECK(*e->list_partitions("sales", {"day", "shard"}) == Rows{{S("d"), I(3)}});
  CHECK(e->delete_partition("sales", {{"day", S("d")}, {"shard", I(3)}}).ok());
  CHECK(e->list_partitions("sales", {"day", "shard"})->empty());
  CHECK_FALSE(e->delete_partition("sales", {{"day", Value()}}).ok());
}

TEST_CASE("prepare reports columns, tables read, and error offsets, and changes nothing") {
  TempDir dir;
  auto e = open_engine(dir);
  std::string f = dir.write("a.csv", "id,amount,who\n1,1,x\n");
  REQUIRE(e->load_partition("sales", day("d"), sales_spec(), f).ok());
  REQUIRE(e->load_partition("people", day("d"), sales_spec(), f).ok());
  REQUIRE(exec_sql(e->handle(), "CREATE VIEW big AS SELECT * FROM sales WHERE amount > 10").ok());

  Result<PreparedInfo> info = e->prepare(
      "WITH w AS (SELECT who FROM people) SELECT s.day, count(*) AS n FROM big s JOIN w USING (who) "
      "WHERE s.who REGEXP ?1 GROUP BY 1");
  REQUIRE_MESSAGE(info.ok(), info.status().message());
  CHECK(info->columns == std::vector<std::string>{"day", "n"});
  CHECK(info->tables == std::vector<std::string>{"big"});
  CHECK(info->base_tables == std::vector<std::string>{"sales", "people"});

  SqlError err;
  Result<PreparedInfo> bad = e->prepare("SELECT id FORM sales", &err);
  REQUIRE_FALSE(bad.ok());
  CHECK(err.message == "near \"sales\": syntax error");
  CHECK(err.offset == 15);
  CHECK(bad.status().message() == "near \"sales\": syntax error (at byte 15 of the SQL)");

  CHECK_FALSE(e->prepare("SELECT nope FROM sales", &err).ok());
  CHECK(err.message == "no such column: nope");
  CHECK(err.offset == 7);

  CHECK_FALSE(e->prepare("DELETE FROM sales", &err).ok());
  CHECK(err.message == "the query may only read data, but it uses DELETE");
  CHECK_FALSE(e->prepare("SELECT 1; DROP TABLE sales", &err).ok());
  CHECK(err.message == "only one SQL statement is allowed; another one follows");
  CHECK_FALSE(e->prepare("PRAGMA journal_mode=DELETE", &err).ok());
  CHECK_FALSE(e->prepare("ATTACH 'x.db' AS x", &err).ok());
  CHECK_FALSE(e->prepare("  -- nothing\n", &err).ok());
  CHECK(e->prepare("SELECT 1; -- trailing comment\n").ok());
  CHECK(query(*e, "SELECT count(*) FROM sales") == Rows{{I(1)}});
  CHECK(query(*e, "PRAGMA journal_mode") == Rows{{S("wal")}});
}

TEST_CASE("SQL functions: regexp, extract, replace, dates") {
  TempDir dir;
  auto e = open_engine(dir);
  CHECK(query(*e, "SELECT 'abc123' REGEXP '[0-9]+$', 'abc' REGEXP '^b', NULL REGEXP 'a'") ==
        Rows{{I(1), I(0), Value()}});
  CHECK(query(*e, "SELECT regexp_extract('GET /a/b HTTP/1.0', '^(\\S+) (\\S+)', 2), "
                  "regexp_extract('xyz', 'a(b)?', 1), regexp_extract('k=42', '[0-9]+')") ==
        Rows{{S("/a/b"), Value(), S("42")}});
  CHECK(query(*e, "SELECT regexp_replace('a1b22c', '([0-9]+)', '<\\1>')") == Rows{{S("a<1>b<22>c")}});
  CHECK(query(*e, "SELECT month_of('2024-03-05'), month_of('2024-03-05 10:00:00'), "
                  "date_add('2024-02-28', 2), date_add('2024-03-01', -1)") ==
        Rows{{S("2024-03"), S("2024-03"), S("2024-03-01"), S("2024-02-29")}});
  CHECK(query(*e, "SELECT parse_timestamp('01/Jul/1995:00:00:01 -0400', '%d/%b/%Y:%H:%M:%S %z'), "
                  "parse_date('05.03.2024', '%d.%m.%Y')") ==
        Rows{{S("1995-07-01 00:00:01-04:00"), S("2024-03-05")}});

  Result<Stmt> st = Stmt::prepare(e->handle(), "SELECT regexp_extract('a', '(', 1)");
  REQUIRE(st.ok());
  Result<bool> row = st->step();
  REQUIRE_FALSE(row.ok());
  CHECK(row.status().message().find("regexp_extract: invalid pattern '('") != std::string::npos);
  st = Stmt::prepare(e->handle(), "SELECT month_of('March')");
  REQUIRE(st.ok());
  CHECK(st->step().status().message() ==
        "sqlite: month_of: expected a date or timestamp, got 'March'");
  st = Stmt::prepare(e->handle(), "SELECT regexp_extract('ab', 'a', 2)");
  REQUIRE(st.ok());
  CHECK_FALSE(st->step().ok());
}

TEST_CASE("regex patterns are compiled once per connection and reused across rows") {
  TempDir dir;
  auto e = open_engine(dir);
  REQUIRE(exec_sql(e->handle(), "CREATE TABLE w(x); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL "
                                "SELECT i + 1 FROM c WHERE i < 1000) INSERT INTO w SELECT 'k' || i FROM c")
              .ok());
  CHECK(query(*e, "SELECT count(*) FROM w WHERE x REGEXP '^k[0-9]*7$' AND "
                  "regexp_extract(x, 'k(\\d+)', 1) LIKE '%7'") == Rows{{I(100)}});
  // A non-constant pattern goes through the cache on every row.
  CHECK(query(*e, "SELECT count(*) FROM w WHERE x REGEXP ('^k' || (length(x) - 1))") ==
        Rows{{I(111)}});  // k1, k20..k29, k300..k399
}

TEST_CASE("engines on one file: readers run beside a writer - writers wait, then time out") {
  TempDir dir;
  auto a = open_engine(dir);
  EngineOptions quick;
  quick.busy_timeout_ms = 50;
  auto b = open_engine(dir, quick);
  std::string f = dir.write("a.csv", "id,amount,who\n1,1,x\n");
  REQUIRE(a->load_partition("sales", day("d1"), sales_spec(), f).ok());
  REQUIRE(exec_sql(a->handle(), "BEGIN IMMEDIATE").ok());
  REQUIRE(exec_sql(a->handle(), "DELETE FROM sales").ok());
  CHECK(query(*b, "SELECT count(*) FROM sales") == Rows{{I(1)}});  // sees the last commit
  Result<WriteResult> r = b->load_partition("sales", day("d2"), sales_spec(), f);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("database is locked") != std::string::npos);
  REQUIRE(exec_sql(a->handle(), "ROLLBACK").ok());
  CHECK(b->load_partition("sales", day("d2"), sales_spec(), f).ok());
}

}  // namespace dbuild::exec
