// Invariants under SIGKILL (PRODUCT.md §4): kill `dbuild build` at random points many times;
// after every kill the recorded partitions still match their data (dbuild verify), and the
// next build converges to the same warehouse content as a clean build.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>

#include "test_util.h"

namespace fs = std::filesystem;

namespace dbuild {
namespace {

void copy_example(const std::string& to) {
  std::string from = testing::source_dir() + "/examples/nasa";
  for (const char* part : {"workspace.dbuild", "sources.dbuild", "pipeline.dbuild", "queries", "data"})
    fs::copy(from + "/" + part, to + "/" + part, fs::copy_options::recursive);
}

/// Every row of every table, one line each, sorted: the warehouse's content.
std::string content(const std::string& dir) {
  std::string tables = testing::run_command("sqlite3 " + dir + "/warehouse.db \"SELECT name FROM "
                                            "sqlite_master WHERE type='table' ORDER BY name\"")
                           .output;
  std::istringstream in(tables);
  std::string name, out;
  while (std::getline(in, name)) {
    std::string rows = testing::run_command("sqlite3 " + dir + "/warehouse.db \"SELECT * FROM \\\"" + name + "\\\"\"").output;
    std::vector<std::string> lines;
    std::istringstream rs(rows);
    for (std::string l; std::getline(rs, l);) lines.push_back(l);
    std::sort(lines.begin(), lines.end());
    out += "== " + name + " (" + std::to_string(lines.size()) + " rows)\n";
    for (const auto& l : lines) out += l + "\n";
  }
  return out;
}

/// Starts `dbuild build` in `dir`, kills it with SIGKILL after `delay`, reaps it. True when
/// the build was still running when killed.
bool build_and_kill(const std::string& dir, std::chrono::milliseconds delay, bool force) {
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(127);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    if (force) execl(testing::dbuild_binary().c_str(), "dbuild", "build", "-j2", "--force", static_cast<char*>(nullptr));
    else execl(testing::dbuild_binary().c_str(), "dbuild", "build", "-j2", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(delay);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

TEST_CASE("kill: SIGKILL at random points never breaks the state; the next build converges") {
  testing::TempDir clean, victim;
  copy_example(clean.path());
  copy_example(victim.path());
  auto ref = testing::run_command("cd " + clean.path() + " && " + testing::dbuild_binary() + " build");
  REQUIRE(ref.exit_code == 0);
  std::string expected = content(clean.path());
  REQUIRE(expected.find("== daily_url_error_rates") != std::string::npos);

  std::mt19937 rng(20261130);
  int kills = 12, midway = 0;
  for (int i = 0; i < kills; ++i) {
    // Every other build is forced, so kills keep landing in the middle of real work.
    bool killed = build_and_kill(victim.path(), std::chrono::milliseconds(20 + rng() % 500), i % 2 == 1);
    midway += killed;
    auto v = testing::run_command("cd " + victim.path() + " && " + testing::dbuild_binary() + " verify");
    CHECK_MESSAGE(v.exit_code == 0, "after kill ", i, ": ", v.output);
  }
  CHECK(midway >= kills / 2);  // most kills landed in the middle of a build
  auto last = testing::run_command("cd " + victim.path() + " && " + testing::dbuild_binary() + " build");
  CHECK_MESSAGE(last.exit_code == 0, last.output);
  CHECK(content(victim.path()) == expected);
  auto again = testing::run_command("cd " + victim.path() + " && " + testing::dbuild_binary() + " build --json");
  CHECK(again.output.find("\"ran\":0") != std::string::npos);
  auto v = testing::run_command("cd " + victim.path() + " && " + testing::dbuild_binary() + " verify");
  CHECK(v.exit_code == 0);
}

}  // namespace
}  // namespace dbuild
