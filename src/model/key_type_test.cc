#include "model/key_type.h"

#include <doctest/doctest.h>

namespace dbuild {
namespace {

TEST_CASE("key values round-trip through their text form") {
  for (KeyType t : {KeyType::Date, KeyType::Month, KeyType::Hour, KeyType::Int}) {
    for (int64_t v : {-1000, -1, 0, 1, 59, 365, 20000, 90000}) {
      std::string text = format_key_value(t, v);
      auto back = parse_key_value(t, text);
      REQUIRE(back.has_value());
      CHECK(*back == v);
    }
  }
  CHECK(format_key_value(KeyType::Date, 0) == "1970-01-01");
  CHECK(format_key_value(KeyType::Month, 0) == "1970-01");
  CHECK(format_key_value(KeyType::Hour, 24 * 19782 + 13) == "2024-02-29T13");
  CHECK(parse_key_value(KeyType::Date, "2024-03-05") == 19787);
  CHECK(parse_key_value(KeyType::Hour, "2024-03-05 13") == 19787 * 24 + 13);
}

TEST_CASE("invalid values are refused") {
  CHECK_FALSE(parse_key_value(KeyType::Date, "2023-02-29"));
  CHECK(parse_key_value(KeyType::Date, "2024-02-29"));
  CHECK_FALSE(parse_key_value(KeyType::Date, "2024-13-01"));
  CHECK_FALSE(parse_key_value(KeyType::Date, "2024-3-05"));
  CHECK_FALSE(parse_key_value(KeyType::Month, "2024-00"));
  CHECK_FALSE(parse_key_value(KeyType::Hour, "2024-03-05T24"));
  CHECK_FALSE(parse_key_value(KeyType::Int, "12a"));
  CHECK_FALSE(parse_key_value(KeyType::Int, ""));
}

TEST_CASE("months and days") {
  int64_t day = *parse_key_value(KeyType::Date, "1995-07-31");
  CHECK(format_key_value(KeyType::Month, month_of_day(day)) == "1995-07");
  int64_t m = *parse_key_value(KeyType::Month, "1995-08");
  CHECK(format_key_value(KeyType::Date, first_day_of_month(m)) == "1995-08-01");
  CHECK(first_day_of_month(m + 1) - first_day_of_month(m) == 31);
  CHECK(format_key_value(KeyType::Month, month_of_day(-1)) == "1969-12");
}

}  // namespace
}  // namespace dbuild
