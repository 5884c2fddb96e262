// How commands are started (posix_spawn): they behave as from a shell, whatever dbuild's own
// signal dispositions.
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "test_util.h"

namespace dbuild {
namespace {

TEST_CASE("commands: SIGPIPE is back to its default for a command, even when dbuild's parent ignored it") {
  testing::TempDir dir;
  dir.write("workspace.dbuild",
            "table first { command \"yes | head -n 1 > {{ output }}\"  output \"out/first.txt\" }\n");
  // `trap '' PIPE` makes the shell, and so dbuild, ignore SIGPIPE; inherited by the command,
  // `yes` would see EPIPE and complain instead of ending quietly.
  auto r = testing::run_command("trap '' PIPE; " + testing::dbuild_binary() + " build -C " + dir.path());
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(testing::slurp(dir.sub("out/first.txt")) == "y\n");
  auto log = testing::run_command(testing::dbuild_binary() + " log first -C " + dir.path());
  CHECK_MESSAGE(log.output.find("Broken pipe") == std::string::npos, log.output);
}

}  // namespace
}  // namespace dbuild

namespace dbuild {
namespace {

TEST_CASE("commands: a command left running by a killed build cannot write into the next build's output") {
  testing::TempDir dir;
  // The command writes its input, waits, and writes it again: a leftover from a killed build
  // would append its (old) input into the temporary output of the next build's command.
  dir.write("workspace.dbuild", R"(
source inputs { path = "in/{n}.txt" format = lines partition n: int }
table twice {
  partition n: int
  input inputs[n]
  command """cat in/$DBUILD_PARTITION.txt > {{ output }}; sleep 1; cat in/$DBUILD_PARTITION.txt >> {{ output }}"""
  output "out/{n}.txt"
}
)");
  dir.write("in/1.txt", "old\n");
  auto started = testing::run_command("cd " + dir.path() + " && (" + testing::dbuild_binary() +
                                      " build >/dev/null 2>&1 & echo $!)");
  pid_t pid = static_cast<pid_t>(std::stol(started.output));
  for (int i = 0; i < 200 && !std::filesystem::exists(dir.sub("out/1.txt.dbuild-tmp")); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(std::filesystem::exists(dir.sub("out/1.txt.dbuild-tmp")));
  ::kill(pid, SIGKILL);
  dir.write("in/1.txt", "new\n");
  auto r = testing::run_command(testing::dbuild_binary() + " build -C " + dir.path());
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(testing::slurp(dir.sub("out/1.txt")) == "new\nnew\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // when a leftover would have written
  CHECK_FALSE(std::filesystem::exists(dir.sub("out/1.txt.dbuild-tmp")));
  CHECK(testing::slurp(dir.sub("out/1.txt")) == "new\nnew\n");
}

}  // namespace
}  // namespace dbuild
