// The PostgreSQL engine's view of SQL text: parameters outside literals and comments, offsets.
#include "engine/postgres/pg_sql_text.h"

#include <doctest/doctest.h>

namespace dbuild::exec::pg {

TEST_CASE("postgres sql text: parameters are found outside literals, identifiers and comments") {
  CHECK(parameter_numbers("SELECT $1, $12 FROM t WHERE a = $3") == std::set<int>{1, 3, 12});
  CHECK(parameter_numbers("SELECT '$1', \"$2\", E'\\'$3', $$ $4 $$, $q$ $5 $q$ -- $6\n/* $7 */ $8") ==
        std::set<int>{8});
  CHECK(parameter_numbers("SELECT a$1 FROM t").empty());
  CHECK(question_to_dollar("SELECT ?1, '?2', ?12 -- ?3\n") == "SELECT $1, '?2', $12 -- ?3\n");
  CHECK(question_to_dollar("SELECT j ? 'k' FROM t") == "SELECT j ? 'k' FROM t");
  CHECK(replace_parameters("x = $1 AND y = '$1'", [](int n) { return "P" + std::to_string(n); }) ==
        "x = P1 AND y = '$1'");
}

TEST_CASE("postgres sql text: statements are trimmed and positions become byte offsets") {
  CHECK(trim_statement("SELECT 1 ;  \n") == "SELECT 1");
  CHECK(trim_statement("SELECT 1") == "SELECT 1");
  std::string sql = "SELECT 'é', nope";
  CHECK(byte_offset(sql, 13) == static_cast<int>(sql.find("nope")));
  CHECK(byte_offset(sql, 0) == -1);
  CHECK(byte_offset(sql, 1) == 0);
}

TEST_CASE("postgres sql text: user parameters get a type only where the SQL does not use them") {
  Result<PgParams> p = bind_user_params("SELECT $2", {Value(int64_t{1}), Value(std::string("x")), Value(1.5)});
  REQUIRE(p.ok());
  CHECK(p->types == std::vector<Oid>{20, 0, 701});
  CHECK(p->text == std::vector<std::string>{"1", "x", "1.5"});
  Result<PgParams> missing = bind_user_params("SELECT $3", {Value()});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() == "the SQL uses $3 but only 1 parameter values are given");
}

}  // namespace dbuild::exec::pg
