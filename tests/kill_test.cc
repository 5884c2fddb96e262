// Invariants under SIGKILL (docs/architecture.md, Invariants): kill `dbuild build` at random points many times;
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

TEST_CASE("kill: SIGKILL at random points never breaks the state - the next build converges") {
  testing::TempDir clean, victim;
  testing::copy_nasa_example(clean.path());
  testing::copy_nasa_example(victim.path());
  // Kill delays are fractions of a clean build's time, so kills land mid-build whether the
  // binary is a fast release build or a slow sanitized one.
  auto started = std::chrono::steady_clock::now();
  auto ref = testing::run_command("cd " + clean.path() + " && " + testing::dbuild_binary() + " build -j2");
  auto clean_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  REQUIRE(ref.exit_code == 0);
  MESSAGE("clean build: ", clean_ms.count(), " ms");
  std::string expected = content(clean.path());
  REQUIRE(expected.find("== daily_url_error_rates") != std::string::npos);

  std::mt19937 rng(20261130);
  int kills = 12, midway = 0;
  for (int i = 0; i < kills; ++i) {
    // Every other build is forced, so kills keep landing in the middle of real work.
    // A forced build redoes everything, so it lasts about as long as a clean build: a delay
    // between 5% and 80% of that lands in its middle.
    double fraction = 0.05 + 0.75 * std::uniform_real_distribution<double>(0, 1)(rng);
    auto delay = std::chrono::milliseconds(std::max<long>(5, static_cast<long>(fraction * clean_ms.count())));
    bool killed = build_and_kill(victim.path(), delay, i % 2 == 1);
    midway += killed;
    auto v = testing::run_command("cd " + victim.path() + " && " + testing::dbuild_binary() + " verify");
    CHECK_MESSAGE(v.exit_code == 0, "after kill ", i, ": ", v.output);
  }
  MESSAGE(midway, " of ", kills, " kills landed mid-build");
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
