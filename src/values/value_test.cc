#include "values/value.h"

#include <doctest/doctest.h>

namespace dbuild::exec {

TEST_CASE("format_value renders SQL-like literals") {
  CHECK(format_value(Value()) == "NULL");
  CHECK(format_value(Value(int64_t{-42})) == "-42");
  CHECK(format_value(Value(1.5)) == "1.5");
  CHECK(format_value(Value(std::string("it's"))) == "'it''s'");
  CHECK(format_value(Value(std::string(100, 'x'))) == "'" + std::string(60, 'x') + "...'");
}

TEST_CASE("set_text reuses a string and replaces other kinds") {
  Value v = int64_t{3};
  set_text(v, "abc");
  CHECK(std::get<std::string>(v) == "abc");
  set_text(v, "z");
  CHECK(std::get<std::string>(v) == "z");
}

TEST_CASE("strict integer, number and boolean parsing") {
  int64_t i = 0;
  CHECK((parse_int64("123", &i) && i == 123));
  CHECK((parse_int64("-9223372036854775808", &i) && i == INT64_MIN));
  CHECK((parse_int64("+7", &i) && i == 7));
  CHECK_FALSE(parse_int64("9223372036854775808", &i));
  CHECK_FALSE(parse_int64("12 ", &i));
  CHECK_FALSE(parse_int64(" 12", &i));
  CHECK_FALSE(parse_int64("1.0", &i));
  CHECK_FALSE(parse_int64("", &i));
  CHECK_FALSE(parse_int64("+-1", &i));
  double d = 0;
  CHECK((parse_double("1.5e3", &d) && d == 1500));
  CHECK((parse_double("-0.25", &d) && d == -0.25));
  CHECK_FALSE(parse_double("nan", &d));
  CHECK_FALSE(parse_double("inf", &d));
  CHECK_FALSE(parse_double("1e999", &d));
  CHECK_FALSE(parse_double("1,5", &d));
  bool b = false;
  CHECK((parse_bool("TRUE", &b) && b));
  CHECK((parse_bool("0", &b) && !b));
  CHECK((parse_bool("false", &b) && !b));
  CHECK_FALSE(parse_bool("yes", &b));
}

}  // namespace dbuild::exec
