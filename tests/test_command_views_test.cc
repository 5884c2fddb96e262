// `dbuild test` gives its query the input view a build gives it, and refuses unknown tables.
#include <doctest/doctest.h>

#include "test_util.h"

namespace dbuild {
namespace {

const char* kRules = R"(
source sales { path = "s/{day}.csv" format = csv partition day: date }
table today {
  partition day: date
  input sales
  sql "SELECT count(*) AS n, sum(amount) AS total FROM sales"
  test "reads only its own day" {
    partition = "2024-03-05"
    given sales """
      day        | amount
      2024-03-04 | 100
      2024-03-05 | 1
      2024-03-05 | 2
      2024-03-06 | 1000
    """
    expect """
      n | total
      2 | 3
    """
  }
}
table two_days {
  partition day: date
  input sales[day - 1 .. day]
  sql "SELECT count(*) AS n, sum(amount) AS total FROM sales"
  test "reads the day before and the day" {
    partition = "2024-03-05"
    given sales """
      day        | amount
      2024-03-03 | 100
      2024-03-04 | 10
      2024-03-05 | 1
      2024-03-06 | 1000
    """
    expect """
      n | total
      2 | 11
    """
  }
}
table everything {
  sql "SELECT count(*) AS n FROM sales"
  test "an unpartitioned table reads every partition" {
    given sales """
      day        | amount
      2024-03-04 | 1
      2024-03-05 | 1
    """
    expect """
      n
      2
    """
  }
}
)";

TEST_CASE("dbuild test shows the query only the input partitions its mapping selects") {
  testing::TempDir dir;
  dir.write("workspace.dbuild", kRules);
  auto r = testing::run_command(testing::dbuild_binary() + " test -C " + dir.path());
  CHECK(r.output ==
        "PASS today: reads only its own day\n"
        "PASS two_days: reads the day before and the day\n"
        "PASS everything: an unpartitioned table reads every partition\n"
        "tests: 3 passed, 0 failed\n");
  CHECK(r.exit_code == 0);
}

TEST_CASE("dbuild test refuses a fixture key that is not a key value") {
  testing::TempDir dir;
  dir.write("workspace.dbuild", R"(
source sales { path = "s/{day}.csv" format = csv partition day: date }
table today {
  partition day: date
  input sales
  sql "SELECT count(*) AS n FROM sales"
  test "bad day" {
    partition = "2024-03-05"
    given sales """
      day        | amount
      2024-13-05 | 1
    """
    expect """
      n
      0
    """
  }
}
)");
  auto r = testing::run_command(testing::dbuild_binary() + " test -C " + dir.path());
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("`2024-13-05` in the rows of `sales` is not a date value") != std::string::npos);
}

TEST_CASE("dbuild test with an unknown table or a table without tests is an error") {
  testing::TempDir dir;
  dir.write("workspace.dbuild", kRules);
  auto r = testing::run_command(testing::dbuild_binary() + " test -C " + dir.path() + " todya");
  CHECK(r.exit_code == 1);
  CHECK(r.output ==
        "dbuild: error: no table `todya`\n"
        "  hint: did you mean `today`? tables with tests: today, two_days, everything\n");
  r = testing::run_command(testing::dbuild_binary() + " test -C " + dir.path() + " sales");
  CHECK(r.exit_code == 1);
  CHECK(r.output ==
        "dbuild: error: `sales` has no tests\n"
        "  hint: tables with tests: today, two_days, everything\n");
  r = testing::run_command(testing::dbuild_binary() + " test -C " + dir.path() + " 'two_*'");
  CHECK(r.exit_code == 0);
  CHECK(r.output == "PASS two_days: reads the day before and the day\ntests: 1 passed, 0 failed\n");
}

}  // namespace
}  // namespace dbuild
