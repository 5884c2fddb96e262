// `dbuild test` through the real binary: passing and failing tests, with the row diff.
#include <doctest/doctest.h>

#include "test_util.h"

namespace dbuild {
namespace {

TEST_CASE("dbuild test runs the example's tests") {
  auto r = testing::run_command(testing::dbuild_binary() + " test -C " + testing::source_dir() + "/examples/nasa");
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("tests: 3 passed, 0 failed\n") != std::string::npos);
}

TEST_CASE("dbuild test shows the rows that differ") {
  testing::TempDir dir;
  dir.write("workspace.dbuild", R"(
source sales { path = "s/{day}.csv" format = csv partition day: date }
table big {
  partition day: date
  sql "SELECT shop, amount * 2 AS doubled FROM sales WHERE amount > {{ limit }}"
  test "doubles amounts over the limit" {
    given sales """
      day        | shop | amount
      2024-03-05 | a    | 10
      2024-03-05 | b    | 1
    """
    expect """
      shop | doubled
      a    | 20
    """
  }
  test "wrong on purpose" {
    partition = "2024-03-05"
    given sales """
      shop | amount
      a    | 10
    """
    expect """
      shop | doubled
      a    | 21.0
    """
  }
}
var limit = 5
)");
  auto r = testing::run_command(testing::dbuild_binary() + " test -C " + dir.path());
  CHECK(r.exit_code == 1);
  CHECK(r.output ==
        "PASS big: doubles amounts over the limit\n"
        "FAIL big: wrong on purpose\n"
        "    columns: shop | doubled\n"
        "    expected, not returned: a | 21\n"
        "    returned, not expected: a | 20\n"
        "tests: 1 passed, 1 failed\n");
}

}  // namespace
}  // namespace dbuild
