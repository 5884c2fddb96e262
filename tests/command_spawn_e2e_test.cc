// How commands are started (posix_spawn): they behave as from a shell, whatever dbuild's own
// signal dispositions.
#include <doctest/doctest.h>

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
