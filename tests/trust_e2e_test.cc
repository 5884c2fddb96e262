// "Up to date" is always true: regression tests for the ways a build could leave data that a
// later build calls up to date, each with the real binary in a temporary workspace.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace dbuild {
namespace {

/// A workspace and a way to run dbuild in it.
struct Workspace {
  testing::TempDir dir;
  testing::DbuildIn dbuild{dir.path()};

  testing::RunResult run(const std::string& args, const std::string& env = "") {
    std::string out = dbuild.run(args, env);
    return {dbuild.code, out + dbuild.err};
  }
  json build_json(const std::string& args = "") {
    std::string out = dbuild.run("build --json " + args);
    try {
      return json::parse(out);
    } catch (...) {
      FAIL_CHECK("not JSON: ", out, dbuild.err);
      return json{};
    }
  }
  std::string query(const std::string& sql) {
    return testing::run_command("sqlite3 " + dir.path() + "/warehouse.db \"" + sql + "\"").output;
  }
};

using testing::with_result;

/// Every row of every table, sorted: the warehouse's content.
std::string content(const std::string& dir) {
  std::string tables = testing::run_command("sqlite3 " + dir + "/warehouse.db \"SELECT name FROM sqlite_master "
                                            "WHERE type='table' ORDER BY name\"").output;
  std::string out;
  size_t pos = 0;
  while (pos < tables.size()) {
    size_t nl = tables.find('\n', pos);
    std::string name = tables.substr(pos, nl - pos);
    pos = nl == std::string::npos ? tables.size() : nl + 1;
    out += "== " + name + "\n" +
           testing::run_command("sqlite3 " + dir + "/warehouse.db \"SELECT * FROM \\\"" + name +
                                "\\\" ORDER BY 1,2,3,4,5\" 2>/dev/null || sqlite3 " + dir +
                                "/warehouse.db \"SELECT * FROM \\\"" + name + "\\\" ORDER BY 1\"")
               .output;
  }
  return out;
}

/// Starts `dbuild build JOBS` in `dir` in the background (stderr to dir/stderr.txt).
pid_t start_build(const std::string& dir, const char* jobs) {
  std::fflush(stdout);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(127);
    freopen((dir + "/stderr.txt").c_str(), "w", stderr);
    freopen("/dev/null", "w", stdout);
    execl(testing::dbuild_binary().c_str(), "dbuild", "build", jobs, static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

TEST_CASE("trust: a build killed after a data commit and before its record never leaves that data up to date") {
  Workspace w;
  testing::copy_nasa_example(w.dir.path());
  REQUIRE(w.run("build").exit_code == 0);
  // The kill lands right after the 5th data commit of a build with other variable values:
  // those partitions hold the killed run's rows while their records still carry the old key.
  auto killed = w.run("build -j2 --var error_status=500", "DBUILD_TEST_KILL_AFTER_COMMITS=5");
  CHECK(killed.exit_code != 0);
  json planned = json::parse(w.dbuild.run("plan --json"));
  size_t interrupted = 0;
  for (const auto& a : planned["actions"])
    for (const auto& r : a["reasons"]) interrupted += r == "interrupted";
  CHECK(interrupted >= 1);
  // verify does not call the interrupted partitions mismatches: their records claim nothing.
  auto before = w.run("verify");
  CHECK_MESSAGE(before.exit_code == 0, before.output);
  CHECK_MESSAGE(before.output.find("interrupted (stale until rebuilt)") != std::string::npos, before.output);
  json next = w.build_json();
  CHECK(next["failed"] == 0);
  CHECK(next["ran"].get<int>() >= 1);
  auto verify = w.run("verify");
  CHECK_MESSAGE(verify.exit_code == 0, verify.output);
  testing::TempDir clean;
  testing::copy_nasa_example(clean.path());
  REQUIRE(testing::run_command("cd " + clean.path() + " && " + testing::dbuild_binary() + " build").exit_code == 0);
  CHECK(content(w.dir.path()) == content(clean.path()));
  CHECK(with_result(w.build_json(), "ran").empty());
}

TEST_CASE("trust: after a kill, partitions whose data did not change are not rebuilt") {
  Workspace w;
  w.dir.write("workspace.dbuild", "var v = 1\n");
  w.dir.write("rules.dbuild", R"(
source days { path = "in/{day}.csv"  format = csv  partition day: date  columns { n: int } }
table scaled { partition day: date  sql "SELECT n * {{ v }} AS m FROM days" }
)");
  for (int d = 1; d <= 6; ++d) w.dir.write("in/2024-01-0" + std::to_string(d) + ".csv", "n\n" + std::to_string(d) + "\n");
  REQUIRE(w.run("build -j1").exit_code == 0);
  // Killed after its first data commit: one partition holds v=2 rows, the others were only
  // marked (queued). Back with v=1, only the changed one is redone.
  w.run("build -j1 --var v=2", "DBUILD_TEST_KILL_AFTER_COMMITS=1");
  json next = w.build_json();
  CHECK(with_result(next, "ran").size() == 1);
  CHECK(with_result(next, "up_to_date").size() == 11);
  CHECK(w.query("SELECT group_concat(m) FROM (SELECT m FROM scaled ORDER BY day)") == "1,2,3,4,5,6\n");
  CHECK(w.run("verify").exit_code == 0);
  CHECK(with_result(w.build_json(), "ran").empty());
}

TEST_CASE("trust: SIGTERM stops a build cleanly, running commands stop, history says interrupted") {
  Workspace w;
  w.dir.write("workspace.dbuild", "");
  w.dir.write("rules.dbuild", R"(
source days { path = "in/{day}.txt"  format = lines  partition day: date }
table slow {
  partition day: date
  input days
  command "cat in/{{ day }}.txt > {{ output }}; sleep 3; echo done >> {{ output }}"
  output "out/{day}.txt"
}
)");
  for (int d = 1; d <= 6; ++d) w.dir.write("in/2024-01-0" + std::to_string(d) + ".txt", "x\n");
  pid_t pid = start_build(w.dir.path(), "-j2");
  // Wait until both commands run (their temporary outputs exist).
  for (int i = 0; i < 400; ++i) {
    int tmp = 0;
    if (fs::exists(w.dir / "out"))
      for (const auto& e : fs::directory_iterator(w.dir / "out")) tmp += e.path().string().ends_with(".dbuild-tmp");
    if (tmp == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  auto started = std::chrono::steady_clock::now();
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 128 + SIGTERM);
  CHECK_MESSAGE(took < 2.0, "the running commands were not stopped: ", took, " s");
  std::string err = testing::slurp(w.dir / "stderr.txt");
  CHECK_MESSAGE(err.find("interrupted by SIGTERM: 2 running actions were rolled back") != std::string::npos, err);
  // No temporary file is left, and no output was moved into place.
  for (const auto& e : fs::recursive_directory_iterator(w.dir.path()))
    CHECK_MESSAGE(e.path().string().find(".dbuild-tmp") == std::string::npos, e.path());
  CHECK_FALSE(fs::exists(w.dir / "out/2024-01-01.txt"));
  auto history = w.run("history");
  CHECK_MESSAGE(history.output.find("interrupted (SIGTERM)") != std::string::npos, history.output);
  json h = json::parse(w.run("history --json").output);
  CHECK(h["runs"][0]["outcome"] == "interrupted (SIGTERM)");
  CHECK(h["runs"][0]["exit_status"] == 128 + SIGTERM);
}

TEST_CASE("trust: temporary outputs left by a killed build are removed by the next") {
  Workspace w;
  w.dir.write("workspace.dbuild", "");
  w.dir.write("rules.dbuild", R"(
table one { command "echo 1 > {{ output }}"  output "out/one.txt" }
)");
  REQUIRE(w.run("build").exit_code == 0);
  // As a build killed while the command ran would leave them; the partition is up to date.
  w.dir.write("out/one.txt.dbuild-tmp", "half written");
  w.dir.write("out/one.txt.dbuild-tmp.log", "half a log");
  CHECK(with_result(w.build_json(), "ran").empty());
  CHECK_FALSE(fs::exists(w.dir / "out/one.txt.dbuild-tmp"));
  CHECK_FALSE(fs::exists(w.dir / "out/one.txt.dbuild-tmp.log"));
  CHECK(testing::slurp(w.dir / "out/one.txt") == "1\n");
}

TEST_CASE("trust: SIGINT rolls back a running query and the next build finishes the work") {
  Workspace w;
  w.dir.write("workspace.dbuild", "");
  w.dir.write("rules.dbuild", R"(
source days { path = "in/{day}.csv"  format = csv  partition day: date  columns { n: int } }
table heavy {
  partition day: date
  sql """
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 30000000)
    SELECT count(*) AS rows_seen, (SELECT sum(n) FROM days) AS total FROM c
  """
}
)");
  w.dir.write("in/2024-01-01.csv", "n\n1\n");
  pid_t pid = start_build(w.dir.path(), "-j1");
  for (int i = 0; i < 400 && !fs::exists(w.dir / "warehouse.db"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 128 + SIGINT);
  std::string err = testing::slurp(w.dir / "stderr.txt");
  CHECK_MESSAGE(err.find("interrupted by SIGINT: 1 running action was rolled back") != std::string::npos, err);
  CHECK(w.query("SELECT count(*) FROM sqlite_master WHERE name = 'heavy'") == "0\n");
}

TEST_CASE("trust: a command reading a file reruns when the file's lines are reordered") {
  Workspace w;
  w.dir.write("workspace.dbuild", "");
  w.dir.write("rules.dbuild", R"(
source src { path = "src/day={day}.csv"  format = lines  partition day: date }
table first_line {
  partition day: date
  input src
  command "head -1 src/day={{ day }}.csv > {{ output }}"
  output "out/{day}.txt"
}
table line_count {
  partition day: date
  sql "SELECT count(*) AS n FROM src"
}
)");
  w.dir.write("src/day=2024-01-01.csv", "alpha\nbeta\n");
  json first = w.build_json();
  CHECK(first["ran"] == 3);
  CHECK(testing::slurp(w.dir / "out/2024-01-01.txt") == "alpha\n");
  w.dir.write("src/day=2024-01-01.csv", "beta\nalpha\n");
  json next = w.build_json();
  // The SQL reader sees the same rows and is cut off; the command sees other bytes and reruns.
  CHECK(with_result(next, "ran") == std::set<std::string>{"src@2024-01-01", "first_line@2024-01-01"});
  CHECK(with_result(next, "cut_off") == std::set<std::string>{"line_count@2024-01-01"});
  CHECK(testing::slurp(w.dir / "out/2024-01-01.txt") == "beta\n");
  CHECK(w.run("plan --exit-code").exit_code == 0);
  CHECK(w.run("verify").exit_code == 0);
}

TEST_CASE("trust: a command output edited by hand is rebuilt") {
  Workspace w;
  w.dir.write("workspace.dbuild", "");
  w.dir.write("rules.dbuild", R"(
source src { path = "src/{day}.txt"  format = lines  partition day: date }
table copy { partition day: date  input src  command "cp src/{{ day }}.txt {{ output }}"  output "out/{day}.txt" }
)");
  w.dir.write("src/2024-01-01.txt", "a\n");
  w.build_json();
  w.dir.write("out/2024-01-01.txt", "edited\n");
  auto why = w.run("why copy@2024-01-01");
  CHECK_MESSAGE(why.output.find("output missing or changed outside dbuild") != std::string::npos, why.output);
  CHECK(with_result(w.build_json(), "ran") == std::set<std::string>{"copy@2024-01-01"});
  CHECK(testing::slurp(w.dir / "out/2024-01-01.txt") == "a\n");
}

TEST_CASE("trust: partition values never take command outputs outside the workspace") {
  Workspace w;
  w.dir.write("ws/workspace.dbuild", "");
  w.dir.write("ws/rules.dbuild", R"(
source names { table = "names"  partition name: string }
table per_name {
  partition name: string
  input names
  command "echo {{ name }} > {{ output }}"
  output "out/{name}.txt"
}
)");
  w.dir.write("victim.txt", "precious\n");
  std::string db = w.dir.path() + "/ws/warehouse.db";
  testing::run_command("sqlite3 " + db + " \"CREATE TABLE names(name TEXT, v INT); INSERT INTO names VALUES ('ok', 1), ('../../victim', 2);\"");
  auto r = testing::run_command("cd " + w.dir.path() + "/ws && " + testing::dbuild_binary() + " build -k");
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(r.output.find("cannot be part of the output path (it contains `/`)") != std::string::npos, r.output);
  CHECK(testing::slurp(w.dir / "victim.txt") == "precious\n");
  CHECK_FALSE(fs::exists(w.dir / "victim.txt.dbuild-tmp"));
  // Nothing outside is deleted when the bad row goes away.
  testing::run_command("sqlite3 " + db + " \"DELETE FROM names WHERE v = 2\"");
  r = testing::run_command("cd " + w.dir.path() + "/ws && " + testing::dbuild_binary() + " build");
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(testing::slurp(w.dir / "victim.txt") == "precious\n");
  CHECK(testing::slurp(w.dir / "ws/out/ok.txt") == "ok\n");
}

TEST_CASE("trust: check refuses command outputs outside the workspace") {
  Workspace w;
  w.dir.write("workspace.dbuild", "");
  w.dir.write("rules.dbuild", R"(
table abs { command "echo > {{ output }}"  output "/tmp/dbuild-abs.txt" }
table up { command "echo > {{ output }}"  output "out/../../up.txt" }
)");
  auto r = w.run("check");
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(r.output.find("rules.dbuild:2:51: error: the output path leaves the workspace") != std::string::npos,
                r.output);
  CHECK(r.output.find("rules.dbuild:3:50: error: the output path leaves the workspace") != std::string::npos);
}

TEST_CASE("trust: two partitions that would write one file are refused before anything runs") {
  Workspace w;
  w.dir.write("workspace.dbuild", "");
  w.dir.write("rules.dbuild", R"(
source pairs { table = "pairs"  partition a: string, b: string }
table joined {
  partition a: string, b: string
  input pairs
  command "echo {{ a }}-{{ b }} > {{ output }}"
  output "out/{a}{b}.txt"
}
)");
  testing::run_command("sqlite3 " + w.dir.path() + "/warehouse.db \"CREATE TABLE pairs(a TEXT, b TEXT); "
                       "INSERT INTO pairs VALUES ('x', 'yz'), ('xy', 'z');\"");
  auto r = w.run("build -j8");
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(r.output.find("would both write out/xyz.txt") != std::string::npos, r.output);
  CHECK_FALSE(fs::exists(w.dir / "out/xyz.txt"));
}

TEST_CASE("trust: a command sees the default environment and the names its rule grants, no other") {
  Workspace w;
  w.dir.write("workspace.dbuild", "");
  w.dir.write("rules.dbuild", R"(
table plain { command "env > {{ output }}"  output "out/plain.txt" }
table granted { command "env > {{ output }}"  output "out/granted.txt"  env = ["API_TOKEN"] }
)");
  auto r = w.run("build", "API_TOKEN=s3cret OTHER_SECRET=hidden");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  std::string plain = testing::slurp(w.dir / "out/plain.txt");
  std::string granted = testing::slurp(w.dir / "out/granted.txt");
  CHECK(plain.find("PATH=") != std::string::npos);
  CHECK(plain.find("DBUILD_PARTITION=") != std::string::npos);
  CHECK(plain.find("s3cret") == std::string::npos);
  CHECK(plain.find("hidden") == std::string::npos);
  CHECK(granted.find("API_TOKEN=s3cret") != std::string::npos);
  CHECK(granted.find("hidden") == std::string::npos);
}

}  // namespace
}  // namespace dbuild
