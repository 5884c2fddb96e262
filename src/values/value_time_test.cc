#include "values/value_time.h"

#include <doctest/doctest.h>

namespace dbuild::exec {

namespace {

std::string ts(std::string_view format, std::string_view text) {
  Result<TimeFormat> f = TimeFormat::compile(format);
  REQUIRE(f.ok());
  std::string out;
  return f->to_timestamp(text, &out) ? out : "<no match>";
}

}  // namespace

TEST_CASE("timestamps with %z keep their local time and offset") {
  const char* apache = "%d/%b/%Y:%H:%M:%S %z";
  CHECK(ts(apache, "01/Jul/1995:00:00:01 -0400") == "1995-07-01 00:00:01-04:00");
  CHECK(ts(apache, "31/Dec/1999:23:30:00 -0100") == "1999-12-31 23:30:00-01:00");
  CHECK(ts(apache, "01/Jan/2000:00:10:00 +0130") == "2000-01-01 00:10:00+01:30");
  CHECK(ts(apache, "29/feb/2024:12:00:00 +00:00") == "2024-02-29 12:00:00+00:00");
  CHECK(ts(apache, "30/Feb/2024:12:00:00 +0000") == "<no match>");
  CHECK(ts(apache, "01/Jul/1995:00:00:01") == "<no match>");
  CHECK(ts(apache, "01/Jul/1995:00:00:01 -0400 x") == "<no match>");
  CHECK(ts("%Y%m%d%H%M%S", "20240305101112") == "2024-03-05 10:11:12");
  CHECK(ts("%H:%M", "") == "<no match>");
  CHECK(ts("%Y-%m-%d  %H", "2024-03-05\t7") == "2024-03-05 07:00:00");
}

TEST_CASE("unknown directives are rejected when compiling") {
  Result<TimeFormat> f = TimeFormat::compile("%Y-%j");
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().message().find("%j") != std::string::npos);
  CHECK_FALSE(TimeFormat::compile("%Y%").ok());
  CHECK(TimeFormat::compile("%F %T %%").ok());
}

TEST_CASE("ISO 8601 timestamps and dates") {
  TimeFormat iso;
  std::string out;
  CHECK((iso.to_timestamp("2024-03-05T10:00:00Z", &out) && out == "2024-03-05 10:00:00+00:00"));
  CHECK((iso.to_timestamp("2024-03-05 10:00", &out) && out == "2024-03-05 10:00:00"));
  CHECK((iso.to_timestamp("2024-03-05", &out) && out == "2024-03-05 00:00:00"));
  CHECK((iso.to_timestamp("2024-03-05T23:00:00.250-02:00", &out) &&
         out == "2024-03-05 23:00:00.250-02:00"));
  CHECK_FALSE(iso.to_timestamp("2024-3-5", &out));
  CHECK_FALSE(iso.to_timestamp("2024-03-05T25:00", &out));
  CHECK((iso.to_date("2024-03-05", &out) && out == "2024-03-05"));
  CHECK((iso.to_date("2024-03-05T23:30:00-01:00", &out) && out == "2024-03-05"));
  CHECK_FALSE(iso.to_date("2023-02-29", &out));
}

TEST_CASE("month_of and date_add") {
  std::string out;
  CHECK((month_of("2024-03-05", &out) && out == "2024-03"));
  CHECK((month_of("2024-03-05 10:00:00", &out) && out == "2024-03"));
  CHECK((month_of("2024-12", &out) && out == "2024-12"));
  CHECK_FALSE(month_of("2024-13-01", &out));
  CHECK_FALSE(month_of("202403", &out));
  CHECK((date_add("2024-02-28", 1, &out) && out == "2024-02-29"));
  CHECK((date_add("2024-03-01", -1, &out) && out == "2024-02-29"));
  CHECK((date_add("2023-12-31 23:59:59", 1, &out) && out == "2024-01-01"));
  CHECK((date_add("2024-01-01", -366, &out) && out == "2022-12-31"));
  CHECK_FALSE(date_add("2024-01-01x", 1, &out));
  CHECK_FALSE(date_add("9999-12-31", 1, &out));
}

TEST_CASE("date_add agrees with counting days one at a time over centuries") {
  std::string day = "1899-12-25", next, jump;
  for (int n = 1; n <= 80000; ++n) {  // crosses 1900 and 2100 (not leap) and 2000 (leap)
    REQUIRE(date_add(day, 1, &next));
    REQUIRE(date_add("1899-12-25", n, &jump));
    REQUIRE(jump == next);
    REQUIRE(date_add(next, -n, &jump));
    REQUIRE(jump == "1899-12-25");
    day = next;
  }
  CHECK(day == "2119-01-06");  // Python: date(1899, 12, 25) + timedelta(80000)
}

}  // namespace dbuild::exec
