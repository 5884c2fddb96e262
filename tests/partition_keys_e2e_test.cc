// End-to-end: partition key values are values (any string round-trips through the state, the
// selectors and the output), NULL keys are reported, bad source paths are errors, and
// removed partitions are announced.
#include <sys/stat.h>

#include <filesystem>
#include <set>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace dbuild {
namespace {

/// A workspace with the given rules, and the real binary run in it.
struct Workspace {
  testing::TempDir dir;
  std::string err;  // stderr of the last run
  int code = -1;    // exit code of the last run

  explicit Workspace(const std::string& rules) {
    dir.write("workspace.dbuild", "");
    dir.write("rules.dbuild", rules);
  }
  /// stdout of `dbuild ARGS`.
  std::string run(const std::string& args) {
    testing::DbuildIn dbuild{dir.path()};
    std::string out = dbuild.run(args);
    err = dbuild.err;
    code = dbuild.code;
    return out;
  }
  json run_json(const std::string& args) {
    std::string out = run(args);
    try {
      return json::parse(out);
    } catch (...) {
      FAIL_CHECK("not JSON: ", out, err);
      return json{};
    }
  }
  std::string sql(const std::string& statement) {
    return testing::run_command("sqlite3 " + dir.path() + "/warehouse.db \"" + statement + "\"").output;
  }
};

std::set<std::string> results(const json& j, const std::string& result) {
  std::set<std::string> out;
  for (const auto& a : j["actions"])
    if (a["result"] == result) out.insert(a["dataset"].get<std::string>() + "@" + a["partition"].get<std::string>());
  return out;
}

const char* kRegions = R"(
source sales {
  path = "data/{region}.csv"
  format = csv
  partition region: string
}
table totals {
  partition region: string
  sql "SELECT count(*) AS n FROM sales"
}
)";

const char* kRegionDays = R"(
source sales {
  path = "data/{region}/{day}.csv"
  format = csv
  partition region: string, day: date
}
table totals {
  partition region: string, day: date
  sql "SELECT count(*) AS n FROM sales"
}
)";

TEST_CASE("e2e: a string key with a comma round-trips: built once, then up to date") {
  Workspace w(kRegionDays);
  w.dir.write("data/a,b/2024-01-01.csv", "x\n1\n2\n");
  w.dir.write("data/C++/2024-01-01.csv", "x\n3\n");
  w.dir.write("data/us/2024-01-01.csv", "x\n4\n");
  json first = w.run_json("build --json");
  CHECK(w.code == 0);
  CHECK(results(first, "ran") == std::set<std::string>{"sales@a%2Cb,2024-01-01", "sales@C%2B%2B,2024-01-01",
                                                         "sales@us,2024-01-01", "totals@a%2Cb,2024-01-01",
                                                         "totals@C%2B%2B,2024-01-01", "totals@us,2024-01-01"});
  json second = w.run_json("build --json");
  CHECK(second["ran"] == 0);
  CHECK(second["removed"] == 0);
  CHECK(second["up_to_date"] == 6);
  CHECK(w.run("plan") == "0 stale, 6 up to date\n");
  CHECK(w.sql("SELECT region, n FROM totals ORDER BY region") == "C++|1\na,b|2\nus|1\n");
  // The escaped name selects the partition; `why` and `plan` print it the same way.
  CHECK(w.run("why totals@a%2Cb,2024-01-01") == "totals@a%2Cb,2024-01-01 is up to date\n");
  CHECK(w.code == 0);
  json forced = w.run_json("build --json --force totals@C%2B%2B,2024-01-01");
  CHECK(results(forced, "ran") == std::set<std::string>{"sales@C%2B%2B,2024-01-01", "totals@C%2B%2B,2024-01-01"});
  // A raw comma is not a name of that partition, and the error says how to write one.
  w.run("plan totals@a,b,2024-01-01");
  CHECK(w.code == 64);
  CHECK(w.err.find("%2C") != std::string::npos);
}

const char* kLegacy = R"(
source legacy { table = "legacy_orders"  partition who: string }
table per_who { partition who: string  sql "SELECT count(*) AS n FROM legacy" }
)";

TEST_CASE("e2e: NULL keys of a table source are skipped with a warning, never merged with the string NULL") {
  Workspace w(kLegacy);
  w.sql("CREATE TABLE legacy_orders(who TEXT, id INT); INSERT INTO legacy_orders VALUES "
        "('NULL', 1), (NULL, 2), (NULL, 3), ('bob', 4);");
  json j = w.run_json("build --json");
  CHECK(w.code == 0);
  CHECK(results(j, "ran") == std::set<std::string>{"per_who@NULL", "per_who@bob"});
  CHECK(w.err.find("source `legacy`: 2 rows of table `legacy_orders` have NULL in key column `who`") !=
        std::string::npos);
  // The partition named NULL is the string 'NULL': its query sees its one row.
  CHECK(w.sql("SELECT who, n FROM per_who ORDER BY who") == "NULL|1\nbob|1\n");
  w.run("plan");
  CHECK(w.err.find("have NULL in key column `who`") != std::string::npos);
}

TEST_CASE("e2e: a source path that is a directory, FIFO or dangling link is an error and nothing is deleted") {
  Workspace w(kRegions);
  w.dir.write("data/eu.csv", "x\n1\n");
  w.dir.write("data/us.csv", "x\n2\n");
  w.run_json("build --json");
  REQUIRE(w.code == 0);
  auto replace_and_build = [&](const std::string& what) {
    w.run("build");
    CHECK_MESSAGE(w.code == 1, what);
    CHECK_MESSAGE(w.err.find("data/us.csv is " + what) != std::string::npos, w.err);
    CHECK(w.sql("SELECT region, n FROM totals ORDER BY region") == "eu|1\nus|1\n");
    w.run("plan");
    CHECK(w.code == 1);
  };
  fs::remove(w.dir / "data/us.csv");
  fs::create_directory(w.dir / "data/us.csv");
  replace_and_build("a directory");
  fs::remove(w.dir / "data/us.csv");
  REQUIRE(::mkfifo((w.dir / "data/us.csv").c_str(), 0644) == 0);
  replace_and_build("a FIFO");
  fs::remove(w.dir / "data/us.csv");
  fs::create_symlink(w.dir / "nowhere.csv", w.dir / "data/us.csv");
  replace_and_build("a dangling symbolic link");
  // Put back as a file: nothing was lost, nothing runs.
  fs::remove(w.dir / "data/us.csv");
  w.dir.write("data/us.csv", "x\n2\n");
  json j = w.run_json("build --json");
  CHECK(j["ran"] == 0);
  CHECK(j["removed"] == 0);
}

TEST_CASE("e2e: plan lists the partitions a build would remove, and build says what it removed") {
  Workspace w(kRegions);
  w.dir.write("data/eu.csv", "x\n1\n");
  w.dir.write("data/us.csv", "x\n2\n3\n");
  w.run_json("build --json");
  REQUIRE(w.code == 0);
  fs::remove(w.dir / "data/us.csv");
  std::string plan = w.run("plan");
  CHECK(plan ==
        "sales@us: removed: source file data/us.csv is gone\n"
        "totals@us: removed: its inputs no longer produce it\n"
        "0 stale, 2 up to date, 2 to remove\n");
  w.run("plan --exit-code");
  CHECK(w.code == 2);
  json pj = w.run_json("plan --json");
  REQUIRE(pj["removed"].size() == 2);
  CHECK(pj["removed"][0] == json{{"dataset", "sales"}, {"partition", "us"}, {"reason", "source_file_gone"},
                                 {"message", "source file data/us.csv is gone"}, {"rows", 2}});
  CHECK(pj["removed"][1]["reason"] == "not_produced");
  CHECK(pj["actions"].empty());
  w.run("build");
  CHECK(w.code == 0);
  CHECK(w.err.find("removed 1 partition of `sales` (2 rows): sales@us: source file data/us.csv is gone") !=
        std::string::npos);
  CHECK(w.err.find("removed 1 partition of `totals` (1 row): totals@us") != std::string::npos);
  CHECK(w.sql("SELECT region FROM totals") == "eu\n");
  CHECK(w.run("plan") == "0 stale, 2 up to date\n");
}

}  // namespace
}  // namespace dbuild
