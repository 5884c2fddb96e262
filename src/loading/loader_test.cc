#include "loading/loader.h"

#include <doctest/doctest.h>

#include "loading/loader_formats.h"
#include "test_util.h"

namespace dbuild::exec {

namespace {

using testing::TempDir;
using Rows = std::vector<std::vector<Value>>;

/// Loads every row; on error returns the error with no rows.
Result<Rows> load_all(const LoadSpec& spec, const std::string& path, LoadStats* stats = nullptr) {
  Result<std::unique_ptr<Loader>> loader = Loader::open(spec, path);
  if (!loader.ok()) return loader.status();
  Rows rows;
  std::vector<Value> row;
  for (;;) {
    Result<bool> more = (*loader)->next(&row);
    if (!more.ok()) return more.status();
    if (!*more) break;
    rows.push_back(row);
  }
  if (stats) *stats = (*loader)->stats();
  return rows;
}

Value S(const char* s) { return Value(std::string(s)); }
Value I(int64_t i) { return Value(i); }
const Value N;

LoadSpec csv(std::vector<ColumnSpec> columns = {}) {
  LoadSpec spec;
  spec.kind = FormatKind::Csv;
  spec.columns = std::move(columns);
  return spec;
}

}  // namespace

TEST_CASE("csv: header maps columns by name and types convert") {
  TempDir dir;
  std::string p = dir.write("a.csv", "id,name,score,ok,day\n1,ann,2.5,true,2024-03-05\n2,bob,,0,2024-03-06\n");
  Result<Rows> rows = load_all(csv({{"day", ColumnType::Date, ""},
                                    {"id", ColumnType::Int, ""},
                                    {"score", ColumnType::Float, ""},
                                    {"ok", ColumnType::Bool, ""}}),
                               p);
  REQUIRE(rows.ok());
  CHECK(*rows == Rows{{S("2024-03-05"), I(1), Value(2.5), I(1)},
                      {S("2024-03-06"), I(2), N, I(0)}});
}

TEST_CASE("csv: without declared columns every header column is a string") {
  TempDir dir;
  std::string p = dir.write("a.csv", "\xEF\xBB\xBFx,y\r\n1,2\r\n\r\n");
  Result<std::unique_ptr<Loader>> loader = Loader::open(csv(), p);
  REQUIRE(loader.ok());
  REQUIRE((*loader)->columns().size() == 2);
  CHECK((*loader)->columns()[0].name == "x");
  Result<Rows> rows = load_all(csv(), p);
  REQUIRE(rows.ok());
  CHECK(*rows == Rows{{S("1"), S("2")}});
}

TEST_CASE("csv: quoting edge cases") {
  TempDir dir;
  std::string p = dir.write("q.csv",
                            "a,b\n"
                            "\"x,y\",\"say \"\"hi\"\"\"\n"
                            "\"two\nlines\",\"\"\n"
                            "plain \"inner\" quote,\"\"\"\"\r\n"
                            "\"crlf\r\ninside\",last");
  Result<Rows> rows = load_all(csv(), p);
  REQUIRE(rows.ok());
  CHECK(*rows == Rows{{S("x,y"), S("say \"hi\"")},
                      {S("two\nlines"), S("")},
                      {S("plain \"inner\" quote"), S("\"")},
                      {S("crlf\r\ninside"), S("last")}});
}

TEST_CASE("csv: records split across chunk boundaries parse the same") {
  TempDir dir;
  std::string text =
      "\"a\"\"b\",c\r\n\"multi\nline\",\"x\"\n,\n\nlast,\"q\"\"\"\n\"e\"\r\n";
  std::string p = dir.write("c.csv", text);
  auto parse = [&](size_t chunk) {
    Result<std::unique_ptr<LoaderInput>> in = LoaderInput::open(p, chunk);
    REQUIRE(in.ok());
    std::unique_ptr<RecordParser> parser = make_csv_parser(in->get(), ',');
    std::vector<std::string> out;
    std::vector<RawField> fields;
    Malformed bad;
    for (;;) {
      Result<ParseOutcome> r = parser->next(&fields, &bad);
      REQUIRE(r.ok());
      if (*r == ParseOutcome::End) break;
      REQUIRE(*r == ParseOutcome::Record);
      std::string rec;
      for (const RawField& f : fields) rec += std::to_string(f.line) + ":" + std::to_string(f.col) + "[" + std::string(f.text) + "]";
      out.push_back(rec);
    }
    return out;
  };
  std::vector<std::string> expected = parse(1 << 20);
  CHECK(expected == std::vector<std::string>{"1:1[a\"b]1:8[c]", "2:1[multi\nline]3:7[x]",
                                             "4:1[]4:2[]", "6:1[last]6:6[q\"]", "7:1[e]"});
  for (size_t chunk = 1; chunk < text.size() + 2; ++chunk) {
    CAPTURE(chunk);
    CHECK(parse(chunk) == expected);
  }
}

TEST_CASE("csv: a malformed row names file, line and column") {
  TempDir dir;
  std::string p = dir.write("m.csv", "id,n\n1,2\n2,x7\n3,4\n");
  LoadSpec spec = csv({{"id", ColumnType::Int, ""}, {"n", ColumnType::Int, ""}});
  Result<Rows> rows = load_all(spec, p);
  REQUIRE_FALSE(rows.ok());
  CHECK(rows.status().message() == p + ":3:3: expected an integer in column `n`, found 'x7'");

  p = dir.write("f.csv", "id,n\n1,2\n2\n1,2,3\n");
  rows = load_all(spec, p);
  REQUIRE_FALSE(rows.ok());
  CHECK(rows.status().message() == p + ":3:2: expected 2 fields (as in the header), found 1");

  p = dir.write("g.csv", "id,n\n1,2,3\n");
  CHECK(load_all(spec, p).status().message() ==
        p + ":2:5: expected 2 fields (as in the header), found 3");

  p = dir.write("b.csv", "id,n\n1,\"2\"x\n");
  CHECK(load_all(spec, p).status().message() ==
        p + ":2:6: expected a delimiter ',' or the end of the line after a closing quote");

  p = dir.write("u.csv", "id,n\n1,\"2\n3,4\n");
  CHECK(load_all(spec, p).status().message() ==
        p + ":2:3: unterminated quoted field: expected a closing '\"'");
}

TEST_CASE("csv: a declared column missing from the header is an error naming the header") {
  TempDir dir;
  std::string p = dir.write("h.csv", "id,name\n1,a\n");
  Result<Rows> rows = load_all(csv({{"id", ColumnType::Int, ""}, {"email", ColumnType::String, ""}}), p);
  REQUIRE_FALSE(rows.ok());
  CHECK(rows.status().message() == p + ":1: column `email` is not in the header: id,name");
}

TEST_CASE("csv: skip_malformed counts and samples skipped lines") {
  TempDir dir;
  std::string p = dir.write("s.csv", "n\n1\nx\n2\n\"3\"z\n4\n\"open\n");
  LoadSpec spec = csv({{"n", ColumnType::Int, ""}});
  spec.skip_malformed = true;
  LoadStats stats;
  Result<Rows> rows = load_all(spec, p, &stats);
  REQUIRE(rows.ok());
  CHECK(*rows == Rows{{I(1)}, {I(2)}, {I(4)}});
  CHECK(stats.rows == 3);
  CHECK(stats.skipped_malformed == 3);
  CHECK(stats.skipped_lines_sample == std::vector<uint64_t>{3, 5, 7});
}

TEST_CASE("csv: null token, empty typed fields, headerless files and other delimiters") {
  TempDir dir;
  std::string p = dir.write("n.csv", "-;\"-\";;\n5;x;;7\n");
  LoadSpec spec = csv({{"a", ColumnType::Int, ""},
                       {"b", ColumnType::String, ""},
                       {"c", ColumnType::String, ""},
                       {"d", ColumnType::Int, ""}});
  spec.header = false;
  spec.delimiter = ';';
  spec.null_token = "-";
  Result<Rows> rows = load_all(spec, p);
  REQUIRE(rows.ok());
  CHECK(*rows == Rows{{N, S("-"), S(""), N}, {I(5), S("x"), S(""), I(7)}});
}

TEST_CASE("tsv: tab separated, no quoting") {
  TempDir dir;
  std::string p = dir.write("t.tsv", "a\tb\n\"x\"\ty z\n\n1\t\n");
  LoadSpec spec;
  spec.kind = FormatKind::Tsv;
  Result<Rows> rows = load_all(spec, p);
  REQUIRE(rows.ok());
  CHECK(*rows == Rows{{S("\"x\""), S("y z")}, {S("1"), S("")}});
  p = dir.write("bad.tsv", "a\tb\nonly\n");
  CHECK(load_all(spec, p).status().message() == p + ":2:5: expected 2 fields (as in the header), found 1");
}

TEST_CASE("json lines: keys picked by name, escapes, nesting, missing keys") {
  TempDir dir;
  std::string p = dir.write("j.jsonl",
                            "{\"id\": 1, \"name\": \"a\\\"b\\u00e9\\ud83d\\ude00\", \"extra\": [1,{\"x\":\"}\"}]}\n"
                            "\n"
                            "{\"name\":null,\"id\":2,\"tags\":{\"k\":[1,2]}}\r\n"
                            "{\"id\": \"3\"}\n");
  LoadSpec spec;
  spec.kind = FormatKind::JsonLines;
  spec.columns = {{"id", ColumnType::Int, ""}, {"name", ColumnType::String, ""},
                  {"tags", ColumnType::String, ""}};
  Result<Rows> rows = load_all(spec, p);
  REQUIRE(rows.ok());
  CHECK(*rows == Rows{{I(1), S("a\"b\xC3\xA9\xF0\x9F\x98\x80"), N},
                      {I(2), N, S("{\"k\":[1,2]}")},
                      {I(3), N, N}});
}

TEST_CASE("json lines: a line that is not an object is malformed") {
  TempDir dir;
  LoadSpec spec;
  spec.kind = FormatKind::JsonLines;
  spec.columns = {{"id", ColumnType::Int, ""}};
  std::string p = dir.write("j.jsonl", "{\"id\":1}\n[1,2]\n");
  CHECK(load_all(spec, p).status().message() == p + ":2:1: expected a JSON object ('{')");
  p = dir.write("k.jsonl", "{\"id\":1.5}\n");
  CHECK(load_all(spec, p).status().message() ==
        p + ":1:7: expected an integer in column `id`, found '1.5'");
  p = dir.write("l.jsonl", "{\"id\":1} x\n");
  CHECK(load_all(spec, p).status().message() ==
        p + ":1:10: expected the end of the line after the JSON object");
  p = dir.write("m.jsonl", "{\"id\" 1}\n");
  CHECK(load_all(spec, p).status().message() == p + ":1:7: expected ':' after the key");
}

TEST_CASE("lines: one row per line - trailing empty lines ignored") {
  TempDir dir;
  std::string p = dir.write("l.txt", "first\n\n\nsecond\r\nthird\n\n\n");
  LoadSpec spec;
  spec.kind = FormatKind::Lines;
  Result<Rows> rows = load_all(spec, p);
  REQUIRE(rows.ok());
  CHECK(*rows == Rows{{S("first")}, {S("")}, {S("")}, {S("second")}, {S("third")}});
  p = dir.write("nonl.txt", "only");
  rows = load_all(spec, p);
  REQUIRE(rows.ok());
  CHECK(*rows == Rows{{S("only")}});
}

TEST_CASE("regex: one group per column, timestamps with %z") {
  TempDir dir;
  std::string p = dir.write("access.log",
                            "host1 - - [01/Jul/1995:00:00:01 -0400] \"GET /a HTTP/1.0\" 200 6245\n"
                            "host2 - - [01/Jul/1995:00:00:06 -0400] \"GET /b HTTP/1.0\" 304 -\n"
                            "garbage\n");
  LoadSpec spec;
  spec.kind = FormatKind::Regex;
  spec.pattern = R"((\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+)(?: \S+)?" (\d{3}) (\S+))";
  spec.columns = {{"host", ColumnType::String, ""},
                  {"ts", ColumnType::Timestamp, "%d/%b/%Y:%H:%M:%S %z"},
                  {"method", ColumnType::String, ""},
                  {"path", ColumnType::String, ""},
                  {"status", ColumnType::Int, ""},
                  {"bytes", ColumnType::Int, ""}};
  spec.null_token = "-";
  spec.skip_malformed = true;
  LoadStats stats;
  Result<Rows> rows = load_all(spec, p, &stats);
  REQUIRE(rows.ok());
  CHECK(*rows == Rows{{S("host1"), S("1995-07-01 00:00:01-04:00"), S("GET"), S("/a"), I(200), I(6245)},
                      {S("host2"), S("1995-07-01 00:00:06-04:00"), S("GET"), S("/b"), I(304), N}});
  CHECK(stats.skipped_lines_sample == std::vector<uint64_t>{3});

  spec.skip_malformed = false;
  CHECK(load_all(spec, p).status().message() ==
        p + ":3:1: expected a line matching the pattern " + spec.pattern);
  spec.columns.pop_back();
  CHECK(load_all(spec, p).status().message().find("6 capturing groups but 5 columns") !=
        std::string::npos);
}

TEST_CASE("a bad timestamp names the expected format") {
  TempDir dir;
  std::string p = dir.write("t.csv", "ts\n2024-03-05 10:00:00\n05/03/2024\n");
  Result<Rows> rows = load_all(csv({{"ts", ColumnType::Timestamp, ""}}), p);
  REQUIRE_FALSE(rows.ok());
  CHECK(rows.status().message() ==
        p + ":3:1: expected an ISO 8601 timestamp (YYYY-MM-DD HH:MM:SS) in column `ts`, found "
            "'05/03/2024'");
}

TEST_CASE("spec errors: unreadable file, bad format, headerless without columns") {
  TempDir dir;
  CHECK(load_all(csv(), dir.path() + "/none.csv").status().message().find("cannot open") !=
        std::string::npos);
  std::string p = dir.write("a.csv", "d\n1\n");
  CHECK(load_all(csv({{"d", ColumnType::Date, "%q"}}), p).status().message().find("%q") !=
        std::string::npos);
  LoadSpec spec = csv();
  spec.header = false;
  CHECK_FALSE(load_all(spec, p).ok());
  std::string empty = dir.write("e.csv", "");
  CHECK_FALSE(load_all(csv(), empty).ok());
  Result<Rows> none = load_all(csv({{"d", ColumnType::Int, ""}}), empty);
  REQUIRE(none.ok());
  CHECK(none->empty());
}

}  // namespace dbuild::exec
