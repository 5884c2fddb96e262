// Grouped tables end to end (docs/language.md section 14): groups fill in input order, close when
// full, complete or flushed, never change once closed, wait visibly while open, and survive a
// kill. Each test asserts the exact actions a build ran, from `dbuild build --json`.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

using json = nlohmann::json;

namespace dbuild {
namespace {

using testing::with_result;

/// A workspace with daily event files and one grouped table reading them.
struct Grouped {
  testing::TempDir dir;
  testing::DbuildIn dbuild{dir.path()};

  explicit Grouped(const std::string& group_block, int days = 5) {
    dir.write("workspace.dbuild", "");
    dir.write("rules.dbuild", R"(
source events {
  path = "data/{day}.csv"
  format = csv
  partition day: date
  columns { n: int }
}

table batched {
  )" + group_block + R"(
  sql "SELECT count(*) AS files, sum(n) AS total FROM events"
}
)");
    for (int d = 1; d <= days; ++d) add_day(d, d);
  }

  /// A file with one row; `bytes` > 0 pads the number with leading zeros to that file size.
  void add_day(int day, int n, size_t bytes = 0) {
    std::string number = std::to_string(n);
    if (bytes > number.size() + 3) number.insert(0, bytes - number.size() - 3, '0');
    dir.write(day_file(day), "n\n" + number + "\n");
  }
  static std::string day_file(int day) { return "data/2024-03-" + std::string(day < 10 ? "0" : "") + std::to_string(day) + ".csv"; }

  json build(const std::string& args = "build") {
    std::string out = dbuild.run(args + " --json");
    CHECK_MESSAGE(dbuild.code == 0, args, ": ", out, dbuild.err);
    try {
      return json::parse(out);
    } catch (...) {
      FAIL_CHECK("not JSON: ", out, dbuild.err);
      return json{};
    }
  }

  /// `group|files|total` of every built group, in group order.
  std::string groups() {
    return testing::run_command("sqlite3 " + dir.path() +
                                "/warehouse.db 'SELECT \"group\", files, total FROM batched ORDER BY 1'")
        .output;
  }
};

std::set<std::string> ran_of(const json& build, const std::string& dataset) {
  std::set<std::string> out;
  for (const auto& a : with_result(build, "ran"))
    if (a.rfind(dataset + "@", 0) == 0) out.insert(a);
  return out;
}

TEST_CASE("group: max_count closes groups of that many inputs in input order, and the rest waits") {
  Grouped w("group { max_count = 2 }");
  json b = w.build();
  CHECK(ran_of(b, "batched") == std::set<std::string>{"batched@g000001", "batched@g000002"});
  CHECK(w.groups() == "g000001|2|3\ng000002|2|7\n");  // days 1+2, days 3+4; day 5 waits
  CHECK_MESSAGE(w.dbuild.err.find("dbuild: batched@g000003: waiting: 1 of 2 files, for 0s\n") != std::string::npos,
                w.dbuild.err);
  CHECK(ran_of(w.build(), "batched").empty());
  // The fifth day's group fills with the sixth and is built.
  w.add_day(6, 6);
  CHECK(ran_of(w.build(), "batched") == std::set<std::string>{"batched@g000003"});
  CHECK(w.groups() == "g000001|2|3\ng000002|2|7\ng000003|2|11\n");
}

TEST_CASE("group: max_size closes a group before the input that would take it past the size") {
  // Every file is 500 bytes: two fit in 1 KB, a third would not.
  Grouped w("group { max_size = 1KB }", 0);
  for (int d = 1; d <= 5; ++d) w.add_day(d, d, 500);
  json b = w.build();
  CHECK(ran_of(b, "batched") == std::set<std::string>{"batched@g000001", "batched@g000002"});
  CHECK(w.groups() == "g000001|2|3\ng000002|2|7\n");
  std::string plan = w.dbuild.run("plan");
  CHECK_MESSAGE(plan.find("batched@g000003: waiting: 1 file, 0.5 of 1.0 KB, for 0s") != std::string::npos, plan);
}

TEST_CASE("group: flush builds the waiting group, and late inputs never rewrite a closed group") {
  Grouped w("group { max_count = 2 }");
  w.build();
  json f = w.build("flush batched");
  CHECK(ran_of(f, "batched") == std::set<std::string>{"batched@g000003"});
  CHECK(w.dbuild.err.find("flushed batched@g000003 with 1 input") != std::string::npos);
  CHECK(w.groups() == "g000001|2|3\ng000002|2|7\ng000003|1|5\n");
  // A late file that sorts first, and one after: neither joins a closed group.
  w.add_day(9, 100);
  w.dir.write("data/2024-02-01.csv", "n\n1000\n");
  json b = w.build();
  CHECK(ran_of(b, "batched") == std::set<std::string>{"batched@g000004"});
  CHECK(w.groups() == "g000001|2|3\ng000002|2|7\ng000003|1|5\ng000004|2|1100\n");
  // Nothing waits now: a flush has nothing to do.
  json again = w.build("flush batched");
  CHECK(ran_of(again, "batched").empty());
  CHECK(w.dbuild.err.find("nothing to flush") != std::string::npos);
  w.dbuild.run("flush batched --group g000001");
  CHECK(w.dbuild.code == 0);
  CHECK(w.dbuild.err.find("`batched` has no waiting group g000001; nothing to flush") != std::string::npos);
  w.dbuild.run("flush batched --group g000099");
  CHECK(w.dbuild.code == 64);
  CHECK(w.dbuild.err.find("`batched` has no group `g000099`") != std::string::npos);
  w.dbuild.run("flush events");
  CHECK(w.dbuild.code == 64);
  CHECK(w.dbuild.err.find("`events` is not grouped") != std::string::npos);
}

TEST_CASE("group: complete_at builds a group once it holds that many inputs") {
  Grouped w("group { max_count = 10  complete_at = 2 }");
  json b = w.build();
  CHECK(ran_of(b, "batched") == std::set<std::string>{"batched@g000001", "batched@g000002"});
  std::string plan = w.dbuild.run("plan");
  CHECK_MESSAGE(plan.find("batched@g000003: waiting: 1 of 10 files (complete at 2), for 0s") != std::string::npos, plan);
}

TEST_CASE("group: plan and status report a waiting group, and plan --exit-code fails past max_wait") {
  Grouped w("group { max_count = 4  max_wait = 1s }", 2);
  w.build();
  std::string plan = w.dbuild.run("plan --exit-code");
  CHECK_MESSAGE(w.dbuild.code == 0, plan, w.dbuild.err);
  CHECK_MESSAGE(plan.find("batched@g000001: waiting: 2 of 4 files, for 0s\n") != std::string::npos, plan);
  CHECK(plan.find("1 group waiting") != std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  plan = w.dbuild.run("plan --exit-code");
  CHECK_MESSAGE(w.dbuild.code == 2, plan, w.dbuild.err);
  CHECK(plan.find("(over max_wait 1s)") != std::string::npos);
  std::string status = w.dbuild.run("status");
  CHECK_MESSAGE(status.find("batched@g000001: waiting: 2 of 4 files") != std::string::npos, status);
  json j = json::parse(w.dbuild.run("status --json"));
  REQUIRE(j.contains("waiting"));
  CHECK(j["waiting"][0]["group"] == "g000001");
  CHECK(j["waiting"][0]["inputs"] == 2);
  CHECK(j["waiting"][0]["overdue"] == true);
  // Another table's plan does not report it.
  plan = w.dbuild.run("plan --exit-code events");
  CHECK(w.dbuild.code == 0);
  CHECK(plan.find("waiting") == std::string::npos);
}

TEST_CASE("group: a changed member input reruns exactly its group") {
  Grouped w("group { max_count = 2 }");
  w.build();
  w.add_day(3, 30);
  json b = w.build();
  CHECK(with_result(b, "ran") == std::set<std::string>{"events@2024-03-03", "batched@g000002"});
  CHECK(w.groups() == "g000001|2|3\ng000002|2|34\n");
}

TEST_CASE("group: check refuses a partition clause, a mapping and max_size over a table") {
  testing::TempDir dir;
  dir.write("workspace.dbuild", "");
  dir.write("rules.dbuild", R"(
source events {
  path = "data/{day}.csv"
  format = csv
  partition day: date
  columns { n: int }
}
table daily {
  partition day: date
  sql "SELECT * FROM events"
}
table a {
  partition day: date
  group { max_count = 2 }
  sql "SELECT * FROM events"
}
table b {
  input events[day]
  group { max_count = 2 }
  sql "SELECT * FROM events"
}
table c {
  group { max_size = 1MB  max_wait = soon }
  sql "SELECT * FROM daily"
}
)");
  testing::DbuildIn d{dir.path()};
  d.run("check");
  CHECK(d.code == 1);
  CHECK_MESSAGE(d.err.find("rules.dbuild:13:") != std::string::npos, d.err);
  CHECK(d.err.find("a grouped table reads the members of each group, and its other inputs whole") != std::string::npos);
  CHECK(d.err.find("max_size counts file bytes, and `daily` is not a file source") != std::string::npos);
  CHECK(d.err.find("`soon` is not a duration") != std::string::npos);
  CHECK(d.err.find("not implemented") == std::string::npos);
}

/// Starts `dbuild build` in `dir` and kills it with SIGKILL after `delay`; true when it was
/// still running then.
bool build_and_kill(const std::string& dir, std::chrono::milliseconds delay) {
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(127);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execl(testing::dbuild_binary().c_str(), "dbuild", "build", "-j2", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(delay);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

TEST_CASE("group: a build killed while building groups converges to the same groups") {
  Grouped clean("group { max_count = 3 }", 0), victim("group { max_count = 3 }", 0);
  for (int d = 1; d <= 28; ++d) {
    clean.add_day(d, d);
    victim.add_day(d, d);
  }
  auto started = std::chrono::steady_clock::now();
  clean.build();
  auto clean_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  std::string expected = clean.groups();
  REQUIRE(expected.find("g000009|3|") != std::string::npos);
  // Kills at growing fractions of a clean build, each followed by a check of the records.
  int midway = 0;
  for (int i = 1; i <= 6; ++i) {
    midway += build_and_kill(victim.dir.path(), std::chrono::milliseconds(std::max<long>(5, clean_ms.count() * i / 8)));
    victim.dbuild.run("verify");
    CHECK_MESSAGE(victim.dbuild.code == 0, "after kill ", i, ": ", victim.dbuild.err);
  }
  MESSAGE(midway, " of 6 kills landed mid-build; a clean build took ", clean_ms.count(), " ms");
  CHECK(midway >= 1);
  victim.build();
  CHECK(victim.groups() == expected);
  CHECK(with_result(victim.build(), "ran").empty());
}

TEST_CASE("group: the sensors example batches hourly files, waits, flushes, and starts a new batch for a late file") {
  testing::TempDir dir;
  std::filesystem::copy(testing::source_dir() + "/examples/sensors", dir.path(),
                        std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(dir.path() + "/.dbuild");
  std::filesystem::remove(dir.path() + "/warehouse.db");
  testing::DbuildIn d{dir.path()};
  json first = json::parse(d.run("build --json"));
  REQUIRE_MESSAGE(d.code == 0, d.err);
  std::set<std::string> ran = with_result(first, "ran");
  CHECK(ran.count("batches@g000001") == 1);
  CHECK(ran.count("batches@g000002") == 1);
  CHECK(ran.count("batches@g000003") == 0);  // 3 of 6 hours: it waits
  CHECK(ran.count("sensor_report") == 1);
  CHECK(d.run("plan").find("batches@g000003: waiting: 3 of 6 files") != std::string::npos);
  d.run("flush batches");
  CHECK_MESSAGE(d.code == 0, d.err);
  CHECK(d.err.find("flushed batches@g000003 with 3 inputs") != std::string::npos);
  // A late hour starts a fourth batch, which waits; the third stays as it was built.
  dir.write("data/readings/2024-03-05T15.csv", "sensor,celsius\nnorth,17.5\n");
  json later = json::parse(d.run("build --json"));
  CHECK(d.code == 0);
  CHECK(with_result(later, "ran") == std::set<std::string>{"readings@2024-03-05T15", "sensor_report"});
  CHECK(d.run("plan").find("batches@g000004: waiting: 1 of 6 files") != std::string::npos);
  // The report covers the grouped table too.
  d.run("report -o report.html");
  CHECK(d.code == 0);
  CHECK(testing::slurp(dir.path() + "/report.html").find("batches") != std::string::npos);
}

}  // namespace
}  // namespace dbuild
