#include "model/sql_lexer.h"

#include <doctest/doctest.h>

namespace dbuild {
namespace {

std::vector<std::string> names(std::string_view sql) {
  std::vector<std::string> out;
  for (const auto& r : tables_read(sql)) out.push_back(r.name);
  return out;
}

TEST_CASE("normalization ignores comments, whitespace and keyword case") {
  std::string a = normalize_sql("SELECT a, b FROM t WHERE x = 'A  b' -- note\n");
  std::string b = normalize_sql("select a,\n       b   /* why */\n  from T\n where x='A  b'");
  CHECK(a == b);
  CHECK(a == "select a , b from t where x = 'A  b'");
  // String contents and quoted identifiers keep their case and spacing.
  CHECK(normalize_sql("SELECT 'X'") != normalize_sql("SELECT 'x'"));
  CHECK(normalize_sql("SELECT \"Col\" FROM t") == "select \"Col\" from t");
  CHECK(normalize_sql("SELECT {{  day }}") == normalize_sql("SELECT {{day}}"));
}

TEST_CASE("tables read: FROM and JOIN lists, aliases, schemas") {
  CHECK(names("SELECT * FROM a JOIN b ON a.x = b.x LEFT JOIN c AS cc USING (y)") ==
        std::vector<std::string>{"a", "b", "c"});
  CHECK(names("SELECT * FROM a x, b AS y, \"weird name\" WHERE 1") ==
        std::vector<std::string>{"a", "b", "weird name"});
  CHECK(names("SELECT * FROM main.orders") == std::vector<std::string>{"main.orders"});
}

TEST_CASE("tables read: CTE names, strings, comments and functions are not tables") {
  CHECK(names("WITH recent AS (SELECT * FROM logs), top(u) AS (SELECT u FROM recent) "
              "SELECT * FROM top JOIN users ON 1") == std::vector<std::string>{"logs", "users"});
  CHECK(names("SELECT 'from fake' FROM real_t -- FROM commented\n/* JOIN hidden */") ==
        std::vector<std::string>{"real_t"});
  CHECK(names("SELECT * FROM json_each('[1]')").empty());
  CHECK(names("SELECT * FROM (SELECT * FROM inner_t) sub") == std::vector<std::string>{"inner_t"});
}

TEST_CASE("offsets point at the table name") {
  auto refs = tables_read("SELECT *\nFROM  logs");
  REQUIRE(refs.size() == 1);
  CHECK(refs[0].offset == 15);
  CHECK(refs[0].length == 4);
}

TEST_CASE("unterminated strings and comments do not crash") {
  CHECK(tokenize_sql("SELECT 'abc").size() == 2);
  CHECK(tokenize_sql("SELECT /* abc").size() == 2);
  CHECK(tokenize_sql("SELECT {{ day").size() == 2);
  CHECK(names("FROM").empty());
}

TEST_CASE("regression: a long run of template braces normalizes without deep recursion") {
  // Each `{{` inside an unterminated template used to be normalized by a nested call.
  std::string braces(1 << 20, '{');
  std::string normal = normalize_sql(braces);
  CHECK(normal.starts_with("{{{{"));
  CHECK(normal.size() < braces.size() + 8);
  CHECK(normalize_sql("SELECT {{ {{ day }}") == "select {{{{ day }}");
  CHECK(normalize_sql("SELECT {{ Day - 1 }}") == "select {{day - 1}}");
}

}  // namespace
}  // namespace dbuild
