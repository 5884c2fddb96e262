// End-to-end builds with the real binary in temporary workspaces. Each test asserts the exact
// set of actions that ran, from `dbuild build --json`.
#include <filesystem>
#include <set>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace dbuild {
namespace {

/// A small pipeline: daily CSV files -> cleaned daily rows -> per-day counts -> a total.
struct Pipeline {
  testing::TempDir dir;

  Pipeline() {
    dir.write("workspace.dbuild", "var min_amount = 0\n");
    dir.write("rules.dbuild", R"(
source sales {
  path = "data/{day}.csv"
  format = csv
  partition day: date
  columns { shop: string  amount: int }
}

table clean {
  partition day: date
  sql """
    SELECT shop, amount FROM sales WHERE amount >= {{ min_amount }}
  """
}

table per_shop {
  partition day: date
  sql """SELECT shop, sum(amount) AS total FROM clean GROUP BY shop"""
}

table grand_total {
  sql "SELECT count(DISTINCT day) AS days, sum(total) AS amount FROM per_shop"
}
)");
    dir.write("data/2024-03-01.csv", "shop,amount\na,10\nb,20\n");
    dir.write("data/2024-03-02.csv", "shop,amount\na,5\n");
    dir.write("data/2024-03-03.csv", "shop,amount\nb,7\nb,8\n");
  }

  json build(const std::string& args = "") { return run("build --json " + args); }

  json run(const std::string& args, int expect_exit = 0) {
    auto r = testing::run_command("cd " + dir.path() + " && " + testing::dbuild_binary() + " " + args +
                                  " 2>" + dir.path() + "/stderr.txt", false);
    last_stderr = testing::slurp(dir.path() + "/stderr.txt");
    CHECK_MESSAGE(r.exit_code == expect_exit, args, "\n", r.output, last_stderr);
    try {
      return json::parse(r.output);
    } catch (...) {
      FAIL_CHECK("not JSON: ", r.output, last_stderr);
      return json{};
    }
  }

  std::string query(const std::string& sql) {
    return testing::run_command("sqlite3 " + dir.path() + "/warehouse.db \"" + sql + "\"").output;
  }

  std::string last_stderr;
};

using testing::with_result;

const std::set<std::string> kAll = {
    "sales@2024-03-01", "sales@2024-03-02", "sales@2024-03-03", "clean@2024-03-01", "clean@2024-03-02",
    "clean@2024-03-03", "per_shop@2024-03-01", "per_shop@2024-03-02", "per_shop@2024-03-03", "grand_total"};

TEST_CASE("e2e: a first build runs everything, a second nothing") {
  Pipeline p;
  json first = p.build();
  CHECK(with_result(first, "ran") == kAll);
  CHECK(first["ran"] == 10);
  CHECK(p.query("SELECT days, amount FROM grand_total") == "3|50\n");
  json second = p.build();
  CHECK(with_result(second, "ran").empty());
  CHECK(second["up_to_date"] == 10);
}

TEST_CASE("e2e: reformatting a query or adding a comment runs nothing") {
  Pipeline p;
  p.build();
  std::string rules = testing::slurp(p.dir / "rules.dbuild");
  size_t at = rules.find("SELECT shop, sum(amount)");
  rules.replace(at, std::string("SELECT shop, sum(amount)").size(), "select   shop,\n   SUM(amount) -- per shop\n");
  p.dir.write("rules.dbuild", "# a comment\n" + rules);
  json j = p.build();
  CHECK(with_result(j, "ran").empty());
}

TEST_CASE("e2e: editing one query reruns exactly its partitions and their downstream") {
  Pipeline p;
  p.build();
  std::string rules = testing::slurp(p.dir / "rules.dbuild");
  rules.replace(rules.find("sum(amount) AS total"), 20, "sum(amount) * 2 AS total");
  p.dir.write("rules.dbuild", rules);
  json plan = p.run("plan --json");
  CHECK(plan["actions"].size() == 4);
  CHECK(plan["actions"][0]["reasons"] == json::array({"definition_changed"}));
  json j = p.build();
  CHECK(with_result(j, "ran") ==
        std::set<std::string>{"per_shop@2024-03-01", "per_shop@2024-03-02", "per_shop@2024-03-03", "grand_total"});
  CHECK(p.query("SELECT amount FROM grand_total") == "100\n");
}

TEST_CASE("e2e: changing one source file reruns exactly that partition's lineage") {
  Pipeline p;
  p.build();
  p.dir.write("data/2024-03-02.csv", "shop,amount\na,6\n");
  json j = p.build();
  CHECK(with_result(j, "ran") ==
        std::set<std::string>{"sales@2024-03-02", "clean@2024-03-02", "per_shop@2024-03-02", "grand_total"});
  CHECK(p.query("SELECT amount FROM grand_total") == "51\n");
}

TEST_CASE("e2e: a new file adds a partition - touching a file or a fresh copy runs nothing") {
  Pipeline p;
  p.build();
  p.dir.write("data/2024-03-04.csv", "shop,amount\nc,1\n");
  json added = p.build();
  CHECK(with_result(added, "ran") ==
        std::set<std::string>{"sales@2024-03-04", "clean@2024-03-04", "per_shop@2024-03-04", "grand_total"});
  // Same bytes, new mtime: the stat cache misses, the content hash matches.
  p.dir.write("data/2024-03-01.csv", "shop,amount\na,10\nb,20\n");
  CHECK(with_result(p.build(), "ran").empty());
  // A copy of the whole workspace (new inodes and mtimes everywhere), as CI restores it.
  testing::TempDir copy;
  fs::copy(p.dir.path(), copy.path(), fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  auto r = testing::run_command("cd " + copy.path() + " && " + testing::dbuild_binary() + " build --json");
  CHECK(r.exit_code == 0);
  CHECK(with_result(json::parse(r.output), "ran").empty());
}

TEST_CASE("e2e: a change that leaves rows identical cuts off downstream") {
  Pipeline p;
  p.build();
  // Reordering rows of a source file changes its bytes but not its rows as a multiset.
  p.dir.write("data/2024-03-03.csv", "shop,amount\nb,8\nb,7\n");
  json j = p.build();
  CHECK(with_result(j, "ran") == std::set<std::string>{"sales@2024-03-03"});
  CHECK(with_result(j, "cut_off") == std::set<std::string>{"clean@2024-03-03"});
  CHECK(j["cut_off"] == 1);
}

TEST_CASE("e2e: a failing query keeps old data, names the rule and the SQL error - the fix reruns what failed") {
  Pipeline p;
  p.build();
  std::string good = testing::slurp(p.dir / "rules.dbuild");
  std::string bad = good;
  bad.replace(bad.find("sum(amount) AS total"), 20, "sum(amount_typo) AS total");
  p.dir.write("rules.dbuild", bad);
  json j = p.run("build --json", 1);
  CHECK(j["failed"].get<int>() >= 1);
  CHECK(with_result(j, "not_run").count("grand_total") == 1);
  CHECK(p.last_stderr.find("rules.dbuild:") != std::string::npos);
  CHECK(p.last_stderr.find("amount_typo") != std::string::npos);
  CHECK(p.query("SELECT count(*) FROM per_shop") == "4\n");  // the previous rows are intact
  CHECK(p.query("SELECT amount FROM grand_total") == "50\n");

  p.dir.write("rules.dbuild", good);  // back to the definition that built the data: up to date
  CHECK(with_result(p.build(), "ran") == std::set<std::string>{});
  p.dir.write("rules.dbuild", bad);
  p.run("build --json -k", 1);
  std::string fixed = good;
  fixed.replace(fixed.find("sum(amount) AS total"), 20, "sum(amount) AS total, 1 AS fixed");
  p.dir.write("rules.dbuild", fixed);
  json after = p.build();
  CHECK(with_result(after, "ran") ==
        std::set<std::string>{"per_shop@2024-03-01", "per_shop@2024-03-02", "per_shop@2024-03-03", "grand_total"});
}

TEST_CASE("e2e: deleting .dbuild/ and rebuilding gives the same warehouse content") {
  Pipeline p;
  p.build();
  std::string before = p.query("SELECT * FROM per_shop ORDER BY day, shop") + p.query("SELECT * FROM grand_total");
  fs::remove_all(p.dir / ".dbuild");
  json j = p.build();
  CHECK(j["failed"] == 0);
  std::string after = p.query("SELECT * FROM per_shop ORDER BY day, shop") + p.query("SELECT * FROM grand_total");
  CHECK(before == after);
  CHECK(with_result(p.build(), "ran").empty());
}

TEST_CASE("e2e: variables are part of the key of the tables that use them") {
  Pipeline p;
  p.build();
  json j = p.build("--var min_amount=6");
  CHECK(with_result(j, "ran").count("clean@2024-03-02") == 1);
  CHECK(p.query("SELECT count(*) FROM clean WHERE day = '2024-03-02'") == "0\n");
}

TEST_CASE("e2e: plan --exit-code, status and why") {
  Pipeline p;
  auto plan = testing::run_command("cd " + p.dir.path() + " && " + testing::dbuild_binary() + " plan --exit-code");
  CHECK(plan.exit_code == 2);
  p.build();
  auto clean = testing::run_command("cd " + p.dir.path() + " && " + testing::dbuild_binary() + " plan --exit-code");
  CHECK(clean.exit_code == 0);
  CHECK(clean.output == "0 stale, 10 up to date\n");
  p.dir.write("data/2024-03-02.csv", "shop,amount\na,6\n");
  auto why = testing::run_command("cd " + p.dir.path() + " && " + testing::dbuild_binary() + " why clean@2024-03-02");
  CHECK(why.output ==
        "clean@2024-03-02 is stale: input changed\n"
        "  input sales@2024-03-02 will be rebuilt: file data/2024-03-02.csv changed\n");
  json status = p.run("status --json");
  CHECK(status["datasets"][0]["dataset"] == "sales");
  CHECK(status["datasets"][0]["stale"] == 1);
}

TEST_CASE("e2e: a second build while one holds the lock exits 3 and names the holder") {
  Pipeline p;
  p.build();
  // Hold the lock from a shell: flock keeps it while `sleep` runs.
  // Wait until the holder really has the lock (a loaded machine may start it late).
  auto r = testing::run_command("cd " + p.dir.path() + " && (flock .dbuild/build.lock sleep 4 &) && "
                                "for i in $(seq 100); do flock -n .dbuild/build.lock true || break; sleep 0.05; done && " +
                                testing::dbuild_binary() + " build");
  CHECK(r.exit_code == 3);
  CHECK(r.output.find("another dbuild build is running") != std::string::npos);
}

}  // namespace
}  // namespace dbuild

namespace dbuild {
namespace {

TEST_CASE("e2e: a deleted source file removes its partitions downstream, as a clean build would") {
  Pipeline p;
  p.build();
  fs::remove(p.dir / "data/2024-03-02.csv");
  json j = p.build();
  CHECK(j["removed"] == 3);  // sales, clean and per_shop of that day
  CHECK(with_result(j, "ran") == std::set<std::string>{"grand_total"});
  CHECK(p.query("SELECT count(*) FROM clean WHERE day = '2024-03-02'") == "0\n");
  CHECK(p.query("SELECT days, amount FROM grand_total") == "2|45\n");
  auto v = testing::run_command("cd " + p.dir.path() + " && " + testing::dbuild_binary() + " verify");
  CHECK(v.exit_code == 0);
}

TEST_CASE("e2e: --from/--to and targets limit what runs - upstream comes along") {
  Pipeline p;
  json j = p.build("per_shop@2024-03-02");
  CHECK(with_result(j, "ran") == std::set<std::string>{"sales@2024-03-02", "clean@2024-03-02", "per_shop@2024-03-02"});
  json k = p.build("--from 2024-03-03 clean");
  CHECK(with_result(k, "ran") == std::set<std::string>{"sales@2024-03-03", "clean@2024-03-03"});
}

TEST_CASE("e2e: table sources read an existing warehouse table by its partitions") {
  Pipeline p;
  p.dir.write("rules.dbuild", R"(
source legacy { table = "legacy_orders"  partition day: date }
table legacy_daily { partition day: date  sql "SELECT count(*) AS n FROM legacy" }
)");
  testing::run_command("sqlite3 " + p.dir.path() + "/warehouse.db \"CREATE TABLE legacy_orders(day TEXT, id INT); "
                       "INSERT INTO legacy_orders VALUES ('2024-01-01', 1), ('2024-01-01', 2), ('2024-01-02', 3);\"");
  json j = p.build();
  CHECK(with_result(j, "ran") == std::set<std::string>{"legacy_daily@2024-01-01", "legacy_daily@2024-01-02"});
  CHECK(p.query("SELECT day, n FROM legacy_daily ORDER BY day") == "2024-01-01|2\n2024-01-02|1\n");
  testing::run_command("sqlite3 " + p.dir.path() + "/warehouse.db \"INSERT INTO legacy_orders VALUES ('2024-01-02', 4);\"");
  json k = p.build();
  CHECK(with_result(k, "ran") == std::set<std::string>{"legacy_daily@2024-01-02"});
}

}  // namespace
}  // namespace dbuild

namespace dbuild {
namespace {

TEST_CASE("e2e: command tables run the shell, quote templates, load their output and keep it on failure") {
  Pipeline p;
  p.dir.write("cmd.dbuild", R"(
table exported {
  partition day: date
  input clean
  command """
    printf 'shop,amount\nx,%s\n' {{ day }} > {{ output }}
  """
  output "out/{day}.csv"
  format = csv
}
table echo_only {
  partition day: date
  input sales
  command "echo {{ odd }} > {{ output }}"
  output "echo/{day}.txt"
}
var odd = "it's; rm -rf /"
table reads_export {
  partition day: date
  sql "SELECT count(*) AS n FROM exported"
}
)");
  json j = p.build();
  CHECK(j["failed"] == 0);
  CHECK(with_result(j, "ran").count("exported@2024-03-02") == 1);
  CHECK(testing::slurp(p.dir / "out/2024-03-02.csv") == "shop,amount\nx,2024-03-02\n");
  CHECK(testing::slurp(p.dir / "echo/2024-03-01.txt") == "it's; rm -rf /\n");
  CHECK(p.query("SELECT amount FROM exported WHERE day = '2024-03-03'") == "2024-03-03\n");
  CHECK(p.query("SELECT n FROM reads_export WHERE day = '2024-03-01'") == "1\n");
  CHECK(with_result(p.build(), "ran").empty());
  auto verify = testing::run_command("cd " + p.dir.path() + " && " + testing::dbuild_binary() + " verify");
  CHECK_MESSAGE(verify.exit_code == 0, verify.output);
  p.dir.write("echo/2024-03-02.txt", "edited by hand\n");
  verify = testing::run_command("cd " + p.dir.path() + " && " + testing::dbuild_binary() + " verify");
  CHECK(verify.output.find("echo_only@2024-03-02: the output file changed since it was built") != std::string::npos);
  p.dir.write("echo/2024-03-02.txt", "it's; rm -rf /\n");

  // A deleted output is rebuilt; a failing command keeps the previous file.
  fs::remove(p.dir / "echo/2024-03-01.txt");
  CHECK(with_result(p.build(), "ran") == std::set<std::string>{"echo_only@2024-03-01"});
  std::string rules = testing::slurp(p.dir / "cmd.dbuild");
  rules.replace(rules.find("echo {{ odd }}"), 14, "echo changed; exit 3");
  p.dir.write("cmd.dbuild", rules);
  json failed = p.run("build --json -k", 1);
  CHECK(failed["failed"] == 3);
  CHECK(testing::slurp(p.dir / "echo/2024-03-01.txt") == "it's; rm -rf /\n");
  CHECK(p.last_stderr.find("the command exited with status 3") != std::string::npos);
}

}  // namespace
}  // namespace dbuild

namespace dbuild {
namespace {

TEST_CASE("e2e: a malformed source row names file, line and column, and loads nothing of it") {
  Pipeline p;
  p.build();
  p.dir.write("data/2024-03-01.csv", "shop,amount\na,11\nb,twenty\n");
  json j = p.run("build --json", 1);
  CHECK(with_result(j, "failed") == std::set<std::string>{"sales@2024-03-01"});
  CHECK(p.last_stderr ==
        "data/2024-03-01.csv:3:3: error: sales@2024-03-01 failed: expected an integer in column `amount`, "
        "found 'twenty'\n"
        "  hint: the file was not loaded; the partition's previous data is kept\n");
  CHECK(p.query("SELECT shop, amount FROM sales WHERE day = '2024-03-01' ORDER BY shop") == "a|10\nb|20\n");
}

}  // namespace
}  // namespace dbuild

namespace dbuild {
namespace {

TEST_CASE("e2e: clear forgets partitions (and downstream) - history lists runs - graph prints mappings") {
  Pipeline p;
  p.build();
  auto cleared = testing::run_command("cd " + p.dir.path() + " && " + testing::dbuild_binary() +
                                      " clear clean@2024-03-01 --downstream");
  CHECK(cleared.output == "cleared 3 partitions: the next build recomputes them\n");
  json j = p.build();
  CHECK(with_result(j, "ran") == std::set<std::string>{"clean@2024-03-01", "per_shop@2024-03-01", "grand_total"});
  json h = p.run("history --json");
  REQUIRE(h["runs"].size() == 2);
  CHECK(h["runs"][0]["ran"] == 3);
  CHECK(h["runs"][1]["ran"] == 10);
  json g = p.run("graph --format json");
  CHECK(g["edges"][0] == json{{"from", "sales"}, {"to", "clean"}, {"mapping", "sales[day]"}});
  auto dot = testing::run_command("cd " + p.dir.path() + " && " + testing::dbuild_binary() + " graph");
  CHECK(dot.output.find("\"per_shop\" -> \"grand_total\" [label=\"per_shop[*]\"];") != std::string::npos);
}

}  // namespace
}  // namespace dbuild
