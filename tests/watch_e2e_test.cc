// End-to-end tests of `dbuild watch`: the real binary runs in the background on a temporary
// workspace while the test writes files, and each test reads the one JSON line per build the
// watch prints.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "state/build_lock.h"
#include "test_util.h"

extern char** environ;

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace dbuild {
namespace {

const std::string kRules = R"(
source sales {
  path = "data/{day}.csv"
  format = csv
  partition day: date
  columns { shop: string  amount: int }
}

table per_day {
  partition day: date
  sql "SELECT shop, sum(amount) AS total FROM sales GROUP BY shop"
}
)";

/// A workspace with one day of data, and `dbuild watch --json` running on it.
class Watching {
 public:
  explicit Watching(const std::string& more_rules = "", const std::vector<std::string>& extra = {}) {
    dir.write("workspace.dbuild", "# the root of the workspace\n");
    dir.write("rules.dbuild", kRules + more_rules);
    dir.write("data/2024-03-01.csv", "shop,amount\na,1\n");
    std::vector<std::string> args = {testing::dbuild_binary(), "watch", "-C", dir.path(), "--json",
                                     "--debounce", "100", "-j", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
  }
  ~Watching() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  /// The first `n` lines the watch printed, parsed; fails after `timeout_ms`.
  std::vector<json> lines(size_t n, int timeout_ms = 8000) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::vector<json> out;
    while ((out = complete_lines()).size() < n && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE_MESSAGE(out.size() >= n, "the watch printed ", out.size(), " lines, not ", n, "\nstdout:\n",
                    testing::slurp(out_path()), "\nstderr:\n", stderr_text());
    return out;
  }
  /// How many lines the watch printed after waiting `ms` more.
  size_t count_after(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return complete_lines().size();
  }

  /// Sends `sig` and waits for the exit: the exit code (128 + signal if it was killed), or -1
  /// when it did not exit within `timeout_ms`.
  int stop(int sig, int timeout_ms = 3000) {
    ::kill(pid_, sig);
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < until) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }
  bool running() { return ::waitpid(pid_, nullptr, WNOHANG) == 0; }

  std::string stderr_text() const { return testing::slurp(err_path()); }

  testing::TempDir dir;   // the workspace
  testing::TempDir logs;  // the watch's output, outside the watched tree

 private:
  std::string out_path() const { return logs / "out"; }
  std::string err_path() const { return logs / "err"; }
  std::vector<json> complete_lines() const {
    std::string text = testing::slurp(out_path());
    std::vector<json> out;
    std::istringstream in(text.substr(0, text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1));
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
  }
  pid_t pid_ = -1;
};

/// Writes a whole file and closes it, as a producer that writes in place does.
void write_closed(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

using testing::with_result;

TEST_CASE("watch: a new file builds exactly its partitions") {
  Watching w;
  auto first = w.lines(1);
  CHECK(first[0]["trigger"] == "initial build");
  CHECK(with_result(first[0], "ran") == std::set<std::string>{"sales@2024-03-01", "per_day@2024-03-01"});
  write_closed(w.dir / "data/2024-03-02.csv", "shop,amount\nb,2\n");
  auto second = w.lines(2)[1];
  CHECK(second["result"] == "built");
  CHECK(second["trigger"] == "1 new file");
  CHECK(with_result(second, "ran") == std::set<std::string>{"sales@2024-03-02", "per_day@2024-03-02"});
  CHECK(with_result(second, "up_to_date") == std::set<std::string>{"sales@2024-03-01", "per_day@2024-03-01"});
  // The build's own writes (warehouse, state) do not set off another build.
  CHECK(w.count_after(500) == 2);
}

TEST_CASE("watch: a burst of files gives one build") {
  Watching w;
  w.lines(1);
  for (int day = 2; day <= 4; ++day)
    write_closed(w.dir / ("data/2024-03-0" + std::to_string(day) + ".csv"), "shop,amount\nc,3\n");
  auto second = w.lines(2)[1];
  CHECK(second["new_files"] == 3);
  CHECK(with_result(second, "ran").size() == 6);
  CHECK(w.count_after(500) == 2);
}

TEST_CASE("watch: a file written as .part or .name is built once after the rename, not before") {
  Watching w;
  w.lines(1);
  std::string part = w.dir / "data/2024-03-02.csv.part";
  std::string hidden = w.dir / "data/.2024-03-03.csv";  // matches data/*.csv: only its name keeps it out
  write_closed(part, "shop,amount\nb,2\n");
  write_closed(hidden, "shop,amount\nc,3\n");
  CHECK(w.count_after(600) == 1);  // several quiet periods: the unfinished files started nothing
  fs::rename(part, w.dir / "data/2024-03-02.csv");
  fs::rename(hidden, w.dir / "data/2024-03-03.csv");
  auto second = w.lines(2)[1];
  CHECK(second["trigger"] == "2 new files");
  CHECK(with_result(second, "ran") == std::set<std::string>{"sales@2024-03-02", "per_day@2024-03-02",
                                                            "sales@2024-03-03", "per_day@2024-03-03"});
  CHECK(w.count_after(500) == 2);
}

TEST_CASE("watch: a rules error is printed, the watch goes on, and the fix builds") {
  Watching w;
  w.lines(1);
  write_closed(w.dir / "rules.dbuild", std::string(kRules) + "\ntable total {\n  sql \"SELECT count(*) AS n FROM nowhere\"\n}\n");
  auto second = w.lines(2)[1];
  CHECK(second["result"] == "rules_error");
  CHECK(second["rule_files"] == 1);
  CHECK(w.stderr_text().find("rules.dbuild:15:") != std::string::npos);
  REQUIRE(second["diagnostics"].size() >= 1);
  CHECK(second["diagnostics"][0]["line"] == 15);
  CHECK(w.running());
  write_closed(w.dir / "rules.dbuild", std::string(kRules) + "\ntable total {\n  sql \"SELECT count(*) AS n FROM per_day\"\n}\n");
  auto third = w.lines(3)[2];
  CHECK(third["result"] == "built");
  CHECK(with_result(third, "ran") == std::set<std::string>{"total"});
}

TEST_CASE("watch: plan and build run while the watch waits") {
  Watching w;
  w.lines(1);
  testing::DbuildIn cli{w.dir.path()};
  std::string plan = cli.run("plan");
  CHECK_MESSAGE(cli.code == 0, cli.err);
  CHECK(plan.find("0 stale, 2 up to date") != std::string::npos);
  cli.run("build");
  CHECK_MESSAGE(cli.code == 0, cli.err);  // the watch does not hold the build lock between builds
}

TEST_CASE("watch: a build lock held by another build is reported and the build retried a second later") {
  Watching w;
  w.lines(1);
  auto other = BuildLock::acquire(w.dir / ".dbuild/build.lock", "dbuild build (another)");
  REQUIRE(other.ok());
  write_closed(w.dir / "data/2024-03-02.csv", "shop,amount\nb,2\n");
  auto second = w.lines(2)[1];
  CHECK(second["result"] == "locked");
  CHECK(w.stderr_text().find("another dbuild build is running") != std::string::npos);
  other->release();
  auto third = w.lines(3, 4000)[2];  // no new change: the retry comes after a second
  CHECK(third["result"] == "built");
  CHECK(third["trigger"] == "1 new file");
  CHECK(with_result(third, "ran") == std::set<std::string>{"sales@2024-03-02", "per_day@2024-03-02"});
}

TEST_CASE("watch: SIGINT between builds stops the watch at once with 0") {
  Watching w;
  w.lines(1);
  auto start = std::chrono::steady_clock::now();
  CHECK(w.stop(SIGINT) == 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  CHECK(w.stderr_text().find("watch stopped") != std::string::npos);
}

TEST_CASE("watch: SIGINT during a build rolls the build back and exits 130") {
  Watching w(R"(
table slow {
  partition day: date
  input per_day
  command "touch \"$DBUILD_ROOT/running\"; sleep 8; echo done > {{ output }}"
  output "out/{day}.txt"
}
)");
  // The initial build runs the command; wait until it is running.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!fs::exists(w.dir / "running") && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(w.stop(SIGINT) == 130);
  CHECK(w.stderr_text().find("interrupted by SIGINT: 1 running action was rolled back") != std::string::npos);
  CHECK(w.stderr_text().find("watch stopped") == std::string::npos);
  CHECK_FALSE(fs::exists(w.dir / "out/2024-03-01.txt"));
}

}  // namespace
}  // namespace dbuild
