// Tests of the ClickHouse cluster engine against a real two-shard cluster (tests/test_clickhouse.h).
#include "engine/clickhouse/clickhouse_engine.h"

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "base/interrupt.h"
#include "test_clickhouse.h"
#include "test_util.h"

namespace dbuild::exec {

namespace {

using testing::ClickhouseTestDb;
using testing::TempDir;

Value S(const char* s) { return Value(std::string(s)); }
Value I(int64_t i) { return Value(i); }
using Rows = std::vector<std::vector<Value>>;

/// An engine on the test's database and a session of it.
struct Fixture {
  ClickhouseTestDb db;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<EngineSession> session;
  Fixture() {
    Result<std::unique_ptr<Engine>> e = open_clickhouse(db.settings());
    REQUIRE_MESSAGE(e.ok(), e.status().message());
    engine = std::move(*e);
    Result<std::unique_ptr<EngineSession>> s = engine->open();
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    session = std::move(*s);
  }
  Rows rows(const std::string& sql) {
    Result<RowSet> r = session->run_select(sql, {});
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    return r->rows;
  }
  int64_t shard_count(size_t shard, const std::string& local_table) {
    std::string r = db.on_shard(shard, fmt::format("SELECT count() FROM {}.{}", db.name(), local_table));
    REQUIRE_MESSAGE(r.find("ERROR") == std::string::npos, r);
    return std::atoll(r.c_str());
  }
};

std::vector<KeyColumn> day(const char* d) { return {{"day", S(d)}}; }

LoadSpec sales_spec() {
  LoadSpec spec;
  spec.kind = FormatKind::Csv;
  spec.columns = {{"id", ColumnType::Int, ""}, {"amount", ColumnType::Float, ""},
                  {"who", ColumnType::String, ""}};
  return spec;
}

/// A CSV of `n` sales rows starting at id `first`.
std::string sales_csv(int first, int n) {
  std::string out = "id,amount,who\n";
  for (int i = first; i < first + n; ++i) out += fmt::format("{},{}.5,who{}\n", i, i, i % 7);
  return out;
}

WriteResult load(Fixture& f, const std::string& table, const std::vector<KeyColumn>& keys,
                 const std::string& path, const LoadSpec& spec = sales_spec()) {
  Result<WriteResult> r = f.session->load_partition(table, keys, spec, path);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  return *r;
}

WriteResult write(Fixture& f, const QuerySpec& q) {
  Result<WriteResult> r = f.session->write_query_partition(q);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  return *r;
}

Hash128 fingerprint(Fixture& f, const std::string& table, const std::vector<KeyColumn>& keys) {
  Result<WriteResult> r = f.session->fingerprint_partition(table, keys);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  return r->fingerprint;
}

/// A query writing `n` rows (a, b) for partition `p` of `table`, values shifted by `shift`.
QuerySpec numbers_query(const std::string& table, const char* p, int n, int shift) {
  QuerySpec q;
  q.table = table;
  q.keys = day(p);
  q.sql = fmt::format("SELECT toInt64(number) AS a, concat('v', toString(number + {})) AS b "
                      "FROM system.numbers LIMIT {}", shift, n);
  return q;
}

}  // namespace

TEST_CASE("clickhouse: load spreads rows over both shards and a reload replaces only its partition") {
  Fixture f;
  TempDir dir;
  WriteResult r = load(f, "sales", day("2024-03-05"), dir.write("a.csv", sales_csv(0, 2000)));
  CHECK(r.rows == 2000);
  load(f, "sales", day("2024-03-06"), dir.write("b.csv", sales_csv(5000, 3)));
  CHECK(f.shard_count(0, "__dbuild_local_sales") > 0);
  CHECK(f.shard_count(1, "__dbuild_local_sales") > 0);
  CHECK(f.rows("SELECT count() FROM sales") == Rows{{I(2003)}});
  Hash128 other = fingerprint(f, "sales", day("2024-03-06"));

  WriteResult again = load(f, "sales", day("2024-03-05"), dir.write("a2.csv", sales_csv(100, 3)));
  CHECK(again.rows == 3);
  CHECK(f.rows("SELECT day, count() FROM sales GROUP BY day ORDER BY day") ==
        Rows{{S("2024-03-05"), I(3)}, {S("2024-03-06"), I(3)}});
  CHECK(fingerprint(f, "sales", day("2024-03-06")) == other);
  CHECK(fingerprint(f, "sales", day("2024-03-05")) == again.fingerprint);
  // A wider file adds a column on every shard; the other partitions' fingerprints stay.
  LoadSpec wide = sales_spec();
  wide.columns.push_back({"note", ColumnType::String, ""});
  load(f, "sales", day("2024-03-07"), dir.write("w.csv", "id,amount,who,note\n1,2,x,\"back\\slash\nline\"\n"), wide);
  CHECK(fingerprint(f, "sales", day("2024-03-06")) == other);
  CHECK(f.rows("SELECT note FROM sales WHERE day = '2024-03-07'") == Rows{{S("back\\slash\nline")}});
  REQUIRE(f.session->delete_partition("sales", day("2024-03-07")).ok());
  CHECK(f.db.on_shard(1, fmt::format("SELECT count() FROM system.columns WHERE database = '{}' AND "
                                     "table = '__dbuild_local_sales' AND name = 'note'", f.db.name())) == "1");
  CHECK(f.rows("SELECT id, amount, who FROM sales WHERE day = '2024-03-05' ORDER BY id") ==
        Rows{{I(100), Value(100.5), S("who2")}, {I(101), Value(101.5), S("who3")}, {I(102), Value(102.5), S("who4")}});
  Result<std::vector<std::string>> cols = f.session->table_columns("sales");
  REQUIRE(cols.ok());
  CHECK(*cols == std::vector<std::string>{"day", "id", "amount", "who", "note"});
  Result<std::vector<std::vector<Value>>> parts = f.session->list_partitions("sales", {"day"});
  REQUIRE(parts.ok());
  CHECK(*parts == Rows{{S("2024-03-05")}, {S("2024-03-06")}});
}

TEST_CASE("clickhouse: load types, NULLs and a loader error that keeps the old rows") {
  Fixture f;
  TempDir dir;
  LoadSpec spec;
  spec.columns = {{"n", ColumnType::Int, ""}, {"ok", ColumnType::Bool, ""}, {"d", ColumnType::Date, ""},
                  {"ts", ColumnType::Timestamp, ""}, {"s", ColumnType::String, ""}};
  std::string csv =
      "n,ok,d,ts,s\n1,true,2024-03-05,2024-03-05T12:11:12+02:00,\"tab\there\"\n,,,,\n"
      "2,0,2024-03-06,2024-03-06 00:00:00.000,x\n";
  load(f, "typed", {{"k", I(7)}}, dir.write("t.csv", csv), spec);
  CHECK(f.rows("SELECT k, n, ok, d, ts, s FROM typed ORDER BY isNull(n), n") ==
        Rows{{I(7), I(1), I(1), S("2024-03-05"), S("2024-03-05 12:11:12"), S("tab\there")},
             {I(7), I(2), I(0), S("2024-03-06"), S("2024-03-06 00:00:00"), S("x")},
             {I(7), Value(), Value(), Value(), Value(), S("")}});
  Result<int64_t> nulls = f.session->count_nulls("typed", "n");
  REQUIRE(nulls.ok());
  CHECK(*nulls == 1);
  Hash128 before = fingerprint(f, "typed", {{"k", I(7)}});
  Result<WriteResult> bad =
      f.session->load_partition("typed", {{"k", I(7)}}, spec, dir.write("bad.csv", "n,ok,d,ts,s\nx,1,,,\n"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("bad.csv:2:") != std::string::npos);
  Result<WriteResult> old = f.session->load_partition("typed", {{"k", I(7)}}, spec,
                                                     dir.write("old.csv", "n,ok,d,ts,s\n1,1,1969-12-31,,\n"));
  REQUIRE_FALSE(old.ok());
  CHECK(old.status().message().find("1970 to 2105") != std::string::npos);
  CHECK(fingerprint(f, "typed", {{"k", I(7)}}) == before);
  Result<std::vector<std::vector<Value>>> parts = f.session->list_partitions("typed", {"k"});
  REQUIRE(parts.ok());
  CHECK(*parts == Rows{{I(7)}});
}

TEST_CASE("clickhouse: a query sees only the listed partitions of its inputs") {
  Fixture f;
  TempDir dir;
  load(f, "sales", day("2024-03-05"), dir.write("a.csv", sales_csv(0, 10)));
  load(f, "sales", day("2024-03-06"), dir.write("b.csv", sales_csv(100, 20)));
  load(f, "sales", day("2024-03-07"), dir.write("c.csv", sales_csv(200, 40)));
  QuerySpec q;
  q.table = "totals";
  q.keys = {{"month", S("2024-03")}};
  q.sql = "SELECT day AS d, count() AS n, sum(amount) AS total FROM sales GROUP BY day ORDER BY day";
  q.inputs = {{"sales", "", {"day"}, false, {{S("2024-03-05")}, {S("2024-03-07")}}}};
  WriteResult r = write(f, q);
  CHECK(r.rows == 2);
  CHECK(f.rows("SELECT month, d, n FROM totals ORDER BY d") ==
        Rows{{S("2024-03"), S("2024-03-05"), I(10)}, {S("2024-03"), S("2024-03-07"), I(40)}});
  CHECK(fingerprint(f, "totals", q.keys) == r.fingerprint);

  q.inputs[0].partitions.clear();  // no partition: an empty input
  CHECK(write(f, q).rows == 0);
  q.inputs[0].all = true;
  CHECK(write(f, q).rows == 3);
  QuerySpec self = numbers_query("selfread", "2024-01-01", 3, 0);
  write(f, self);
  self.sql = "SELECT a + 10 AS a, b FROM selfread";  // reads the partition it replaces
  self.inputs = {{"selfread", "", {"day"}, false, {{S("2024-01-01")}}}};
  CHECK(write(f, self).rows == 3);
  CHECK(f.rows("SELECT min(a), max(a) FROM selfread") == Rows{{I(10), I(12)}});
  QuerySpec clash = q;
  clash.sql = "SELECT day AS month FROM sales";
  Result<WriteResult> bad = f.session->write_query_partition(clash);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("clashes with the partition key") != std::string::npos);
}

TEST_CASE("clickhouse: fingerprints ignore row order and placement and see one changed value") {
  Fixture f;
  TempDir dir;
  std::string rows;
  for (int i = 0; i < 300; ++i) rows += fmt::format("{},{}.25,w{}\n", i, i, i);
  std::string reversed;
  for (int i = 299; i >= 0; --i) reversed += fmt::format("{},{}.25,w{}\n", i, i, i);
  WriteResult a = load(f, "fa", day("2024-01-01"), dir.write("a.csv", "id,amount,who\n" + rows));
  WriteResult b = load(f, "fb", day("2024-01-01"), dir.write("b.csv", "id,amount,who\n" + reversed));
  CHECK(a.fingerprint == b.fingerprint);
  CHECK(a.rows == 300);
  // Move every row of fb to the first shard: same rows, another placement.
  std::string db = f.db.name();
  CHECK(f.db.on_shard(0, fmt::format("CREATE TABLE {0}.moved AS {0}.__dbuild_local_fb", db)) == "");
  CHECK(f.db.on_shard(0, fmt::format("INSERT INTO {0}.moved SELECT * FROM {0}.fb", db)) == "");
  CHECK(f.db.on_shard(1, fmt::format("ALTER TABLE {0}.__dbuild_local_fb DROP PARTITION tuple('2024-01-01')", db)) == "");
  CHECK(f.db.on_shard(0, fmt::format("ALTER TABLE {0}.__dbuild_local_fb REPLACE PARTITION tuple('2024-01-01') "
                                     "FROM {0}.moved", db)) == "");
  CHECK(f.shard_count(0, "__dbuild_local_fb") == 300);
  CHECK(f.shard_count(1, "__dbuild_local_fb") == 0);
  CHECK(fingerprint(f, "fb", day("2024-01-01")) == a.fingerprint);
  WriteResult c = load(f, "fc", day("2024-01-01"),
                       dir.write("c.csv", "id,amount,who\n" + rows.substr(0, rows.size() - 3) + "x9\n"));
  CHECK(c.rows == 300);
  CHECK(c.fingerprint != a.fingerprint);
  // NULL and the empty string differ; so do two rows that concatenate alike.
  LoadSpec s2;
  s2.columns = {{"x", ColumnType::String, ""}, {"y", ColumnType::String, ""}};
  s2.null_token = "-";
  Hash128 n1 = load(f, "n1", day("2024-01-01"), dir.write("n1.csv", "x,y\n-,\n"), s2).fingerprint;
  Hash128 n2 = load(f, "n2", day("2024-01-01"), dir.write("n2.csv", "x,y\n,\n"), s2).fingerprint;
  Hash128 n3 = load(f, "n3", day("2024-01-01"), dir.write("n3.csv", "x,y\nab,c\n"), s2).fingerprint;
  Hash128 n4 = load(f, "n4", day("2024-01-01"), dir.write("n4.csv", "x,y\na,bc\n"), s2).fingerprint;
  CHECK(n1 != n2);
  CHECK(n3 != n4);
}

TEST_CASE("clickhouse: a failing check keeps the old rows and names offending values") {
  Fixture f;
  QuerySpec q = numbers_query("checked", "2024-01-01", 10, 0);
  WriteResult good = write(f, q);
  QuerySpec bad = q;
  bad.sql = "SELECT toInt64(number % 3) AS a, if(number = 4, NULL, 'x') AS b FROM system.numbers LIMIT 10";
  CheckSpec not_null;
  not_null.kind = CheckKind::NotNull;
  not_null.columns = {"b"};
  CheckSpec unique;
  unique.kind = CheckKind::Unique;
  unique.columns = {"a"};
  CheckSpec custom;
  custom.kind = CheckKind::CustomSql;
  custom.sql = "SELECT a FROM checked WHERE a > 1";
  bad.checks = {not_null, unique, custom};
  Result<WriteResult> r = f.session->write_query_partition(bad);
  REQUIRE_FALSE(r.ok());
  const std::string& m = r.status().message();
  CHECK_MESSAGE(m.find("check not_null(b) failed: 1 rows have NULL in `b`") != std::string::npos, m);
  CHECK_MESSAGE(m.find("check unique(a) failed: 10 rows share a value with another row (3 values), "
                       "e.g. 0 (4 rows)") != std::string::npos, m);
  CHECK_MESSAGE(m.find("check custom SQL check failed: 3 violating rows, e.g. 2") != std::string::npos, m);
  CHECK(fingerprint(f, "checked", q.keys) == good.fingerprint);
  CHECK(f.rows("SELECT count() FROM checked") == Rows{{I(10)}});

  CheckSpec count;
  count.kind = CheckKind::RowCount;
  count.op = CompareOp::Eq;
  count.n = 10;
  CheckSpec accepted;
  accepted.kind = CheckKind::AcceptedValues;
  accepted.columns = {"b"};
  accepted.values = {S("x")};
  bad.checks = {count, accepted};
  CHECK(write(f, bad).rows == 10);
}

TEST_CASE("clickhouse: a query error keeps the old rows") {
  Fixture f;
  QuerySpec q = numbers_query("qe", "2024-01-01", 5, 0);
  WriteResult good = write(f, q);
  q.sql = "SELECT throwIf(number = 3) AS a FROM system.numbers LIMIT 10";
  Result<WriteResult> r = f.session->write_query_partition(q);
  REQUIRE_FALSE(r.ok());
  CHECK_MESSAGE(r.status().message().find("query for `qe`") != std::string::npos, r.status().message());
  q.sql = "SELECT nosuchcolumn FROM system.numbers";
  CHECK_FALSE(f.session->write_query_partition(q).ok());
  CHECK(fingerprint(f, "qe", q.keys) == good.fingerprint);
}

TEST_CASE("clickhouse: delete_partition, table_exists and an unpartitioned table") {
  Fixture f;
  write(f, numbers_query("dp", "2024-01-01", 5, 0));
  write(f, numbers_query("dp", "2024-01-02", 7, 0));
  REQUIRE(f.session->delete_partition("dp", day("2024-01-01")).ok());
  CHECK(f.rows("SELECT day, count() FROM dp GROUP BY day") == Rows{{S("2024-01-02"), I(7)}});
  CHECK(f.session->delete_partition("nosuch", day("2024-01-01")).ok());
  CHECK(*f.session->table_exists("dp"));
  CHECK_FALSE(*f.session->table_exists("nosuch"));
  CHECK_FALSE(f.session->list_partitions("nosuch", {"day"}).ok());
  CHECK_FALSE(f.session->fingerprint_partition("nosuch", {}).ok());
  CHECK(f.session->table_columns("nosuch")->empty());

  QuerySpec whole;
  whole.table = "whole";
  whole.sql = "SELECT 1 AS x UNION ALL SELECT 2";
  WriteResult w = write(f, whole);
  CHECK(w.rows == 2);
  whole.sql = "SELECT 3 AS x";
  CHECK(write(f, whole).rows == 1);
  CHECK(f.rows("SELECT x FROM whole") == Rows{{I(3)}});
  CHECK(*f.session->list_partitions("whole", {}) == Rows{});
}

TEST_CASE("clickhouse: prepare returns columns and tables or ClickHouse's message") {
  Fixture f;
  write(f, numbers_query("pt", "2024-01-01", 5, 0));
  Result<PreparedInfo> p = f.session->prepare("SELECT a, b AS c FROM pt WHERE a IN (SELECT a FROM `pt`) -- note");
  REQUIRE_MESSAGE(p.ok(), p.status().message());
  CHECK(p->columns == std::vector<std::string>{"a", "c"});
  CHECK(p->tables == std::vector<std::string>{"pt"});
  CHECK(p->base_tables == std::vector<std::string>{"pt"});
  CHECK(f.db.on_shard(0, fmt::format("CREATE VIEW {0}.v AS SELECT a FROM {0}.pt", f.db.name())) == "");
  p = f.session->prepare("SELECT a FROM v JOIN (SELECT toInt64(number) AS a FROM system.numbers LIMIT 3) USING a");
  REQUIRE_MESSAGE(p.ok(), p.status().message());
  CHECK(p->tables == std::vector<std::string>{"v", "system.numbers"});
  CHECK(p->base_tables == std::vector<std::string>{"pt", "system.numbers"});
  SqlError err;
  CHECK_FALSE(f.session->prepare("SELECT a FROM pt WHERE", &err).ok());
  CHECK_MESSAGE(err.message.find("Syntax error") != std::string::npos, err.message);
  CHECK(err.offset == 22);
  CHECK_FALSE(f.session->prepare("SELECT nosuch FROM pt", &err).ok());
  CHECK_MESSAGE(err.message.find("nosuch") != std::string::npos, err.message);
  CHECK_FALSE(f.session->prepare("DROP TABLE pt").ok());
  CHECK(*f.session->table_exists("pt"));
}

TEST_CASE("clickhouse: scratch tables shadow stored ones and run_select converts types") {
  Fixture f;
  write(f, numbers_query("stored", "2024-01-01", 5, 0));
  write(f, numbers_query("shadowed", "2024-01-01", 5, 0));
  Result<std::unique_ptr<EngineSession>> scratch = f.engine->open_scratch();
  REQUIRE(scratch.ok());
  EngineSession& s = **scratch;
  RowSet fixture{{"id", "name", "score"}, {{I(1), S("ann"), Value(1.5)}, {I(2), Value(), Value(2.0)}}};
  REQUIRE(s.create_scratch_table("shadowed", fixture).ok());
  Result<RowSet> r = s.run_select(
      "SELECT id, name, score, toDate('2024-03-05') AS d, toDateTime('2024-03-05 01:02:03') AS t, "
      "toUInt8(7) AS u, (SELECT count() FROM stored) AS n FROM shadowed ORDER BY id",
      {});
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->columns == std::vector<std::string>{"id", "name", "score", "d", "t", "u", "n"});
  CHECK(r->rows == Rows{{I(1), S("ann"), Value(1.5), S("2024-03-05"), S("2024-03-05 01:02:03"), I(7), I(5)},
                        {I(2), Value(), Value(2.0), S("2024-03-05"), S("2024-03-05 01:02:03"), I(7), I(5)}});
  Result<PreparedInfo> p = s.prepare("SELECT name FROM shadowed");
  REQUIRE(p.ok());
  CHECK(f.rows("SELECT count() FROM shadowed") == Rows{{I(5)}});  // the stored table is unchanged
}

TEST_CASE("clickhouse: a literal with a quote and a backslash is not an injection") {
  Fixture f;
  std::string evil = "x' OR 1=1) --\\'\n\t`";
  std::string lit = f.engine->placeholder(0, Value(evil));
  Result<RowSet> r = f.session->run_select("SELECT " + lit + " AS v", {Value(evil)});
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->rows == Rows{{Value(evil)}});
  CHECK(f.engine->placeholder(1, I(-42)).find("-42") != std::string::npos);
  CHECK(f.engine->placeholder(2, Value()) == "NULL");
  CHECK(f.engine->placeholder(3, S("2024-03-05")) == "'2024-03-05'");
  QuerySpec q = numbers_query("inj", "2024-01-01", 3, 0);
  q.keys = {{"k", Value(evil)}};
  WriteResult w = write(f, q);
  CHECK(w.rows == 3);
  Result<std::vector<std::vector<Value>>> parts = f.session->list_partitions("inj", {"k"});
  REQUIRE(parts.ok());
  CHECK(*parts == Rows{{Value(evil)}});
  CHECK(fingerprint(f, "inj", q.keys) == w.fingerprint);
  REQUIRE(f.session->delete_partition("inj", q.keys).ok());
  CHECK(f.rows("SELECT count() FROM inj") == Rows{{I(0)}});
}

TEST_CASE("clickhouse: a write stopped between two shards' swaps is redone to the new rows") {
  Fixture f;
  QuerySpec old_q = numbers_query("split", "2024-01-01", 400, 0);
  WriteResult old_w = write(f, old_q);
  QuerySpec new_q = numbers_query("split", "2024-01-01", 400, 1000);
  ::setenv("DBUILD_TEST_CH_FAIL_AFTER_SHARDS", "1", 1);
  Result<WriteResult> stopped = f.session->write_query_partition(new_q);
  ::unsetenv("DBUILD_TEST_CH_FAIL_AFTER_SHARDS");
  REQUIRE_FALSE(stopped.ok());
  CHECK(stopped.status().message().find("after 1 of 2 shards") != std::string::npos);
  Hash128 mixed = fingerprint(f, "split", new_q.keys);
  CHECK(mixed != old_w.fingerprint);
  WriteResult new_w = write(f, new_q);
  CHECK(mixed != new_w.fingerprint);
  CHECK(fingerprint(f, "split", new_q.keys) == new_w.fingerprint);
  CHECK(f.rows("SELECT count(), countIf(b = 'v1000') FROM split") == Rows{{I(400), I(1)}});
}

TEST_CASE("clickhouse: an interrupt stops a write, keeps the old rows and drops the staging tables") {
  Fixture f;
  QuerySpec q = numbers_query("intr", "2024-01-01", 5, 0);
  WriteResult good = write(f, q);
  q.sql = "SELECT toInt64(number) AS a, 'x' AS b FROM system.numbers WHERE sleep(1) = 0 LIMIT 3";
  std::thread stopper([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    request_interrupt(SIGINT);
  });
  Result<WriteResult> r = f.session->write_query_partition(q);
  stopper.join();
  clear_interrupt();
  REQUIRE_FALSE(r.ok());
  CHECK_MESSAGE(r.status().message().find("interrupted") != std::string::npos, r.status().message());
  CHECK(fingerprint(f, "intr", q.keys) == good.fingerprint);
  for (size_t shard = 0; shard < 2; ++shard) {
    CHECK(f.db.on_shard(shard, fmt::format("SELECT count() FROM system.tables WHERE database = '{}' "
                                           "AND substring(name, 1, 14) = '__dbuild_stage'", f.db.name())) == "0");
  }
}

TEST_CASE("clickhouse: staging tables and private databases a killed process left are dropped after a day") {
  Fixture f;
  std::string db = f.db.name();
  for (size_t shard = 0; shard < 2; ++shard) {
    CHECK(f.db.on_shard(shard, fmt::format("CREATE TABLE {}.__dbuild_stage_1000_1_2_3_local (x Int8) "
                                           "ENGINE = Memory", db)) == "");
  }
  std::string recent = fmt::format("__dbuild_stage_{}_1_2_3", std::time(nullptr));
  CHECK(f.db.on_shard(0, fmt::format("CREATE TABLE {}.{} (x Int8) ENGINE = Memory", db, recent)) == "");
  CHECK(f.db.on_shard(0, "CREATE DATABASE IF NOT EXISTS __dbuild_tmp_1000_" + db) == "");
  write(f, numbers_query("sweep", "2024-01-01", 3, 0));
  std::string count = fmt::format("SELECT count() FROM system.tables WHERE database = '{}' AND "
                                  "substring(name, 1, 14) = '__dbuild_stage'", db);
  CHECK(f.db.on_shard(0, count) == "1");  // the recent one stays
  CHECK(f.db.on_shard(1, count) == "0");
  CHECK(f.db.on_shard(0, "SELECT count() FROM system.databases WHERE name = '__dbuild_tmp_1000_" + db + "'") == "0");
}

TEST_CASE("clickhouse: the password travels in a header and is never shown") {
  ClickhouseTestDb db;
  std::string password = testing::clickhouse_password();
  REQUIRE_FALSE(password.empty());
  ConnectionSettings s = db.settings();
  s.values["user"] = "dbuild_pw";
  s.values["password"] = password;
  s.secrets = {"password"};
  Result<std::unique_ptr<Engine>> e = open_clickhouse(s);
  REQUIRE(e.ok());
  CHECK((*e)->describe() == "clickhouse cluster dbuild (2 shards)");
  auto session = (*e)->open();
  REQUIRE(session.ok());
  Result<RowSet> r = (*session)->run_select("SELECT 1 AS one", {});
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  r = (*session)->run_select("SELECT 1 AS x, , '" + password + "'", {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find(password) == std::string::npos);
  CHECK_MESSAGE(r.status().message().find("***") != std::string::npos, r.status().message());

  s.values["password"] = "wrong-" + password;
  e = open_clickhouse(s);
  REQUIRE(e.ok());
  session = (*e)->open();
  REQUIRE(session.ok());
  r = (*session)->run_select("SELECT 1", {});
  REQUIRE_FALSE(r.ok());
  CHECK_MESSAGE(r.status().message().find("password") != std::string::npos, r.status().message());
  CHECK(r.status().message().find(password) == std::string::npos);
  CHECK_FALSE(open_clickhouse(ConnectionSettings{}).ok());
  s.values["password"] = "evil\r\nX-Other: 1";
  Result<std::unique_ptr<Engine>> bad = open_clickhouse(s);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("evil") == std::string::npos);
}

}  // namespace dbuild::exec
