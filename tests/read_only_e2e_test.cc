// End-to-end: a workspace the user cannot write. `build` refuses (exit 1, not the 3 of a held
// lock) and says why; `plan`, `status`, `why` and `verify` work and create no file.
#include <unistd.h>

#include <filesystem>
#include <set>

#include <doctest/doctest.h>

#include "test_util.h"

namespace fs = std::filesystem;

namespace dbuild {
namespace {

/// Every path under `dir`.
std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.insert(e.path().string());
  return out;
}

TEST_CASE("e2e: in a read-only workspace build exits 1 saying so, and plan, status, why and verify work") {
  // Permission bits do not stop root: run the binary as an unprivileged user then.
  std::string as_user;
  if (::geteuid() == 0) {
    as_user = "setpriv --reuid=nobody --regid=nogroup --clear-groups ";
    if (testing::run_command(as_user + "true").exit_code != 0) {
      MESSAGE("skipped: running as root and cannot switch to user nobody with setpriv");
      return;
    }
  }
  testing::TempDir dir;
  std::string ws = dir / "ws";
  dir.write("ws/workspace.dbuild", "");
  dir.write("ws/rules.dbuild", R"(
source sales { path = "data/{region}.csv"  format = csv  partition region: string }
table totals { partition region: string  sql "SELECT count(*) AS n FROM sales" }
)");
  dir.write("ws/data/eu.csv", "x\n1\n");
  dir.write("ws/data/us.csv", "x\n2\n3\n");
  auto run = [&](const std::string& user, const std::string& args) {
    return testing::run_command(user + testing::dbuild_binary() + " " + args + " -C " + ws);
  };
  REQUIRE(run("", "build").exit_code == 0);
  dir.write("ws/data/fr.csv", "x\n4\n");  // new work for plan to find
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  REQUIRE(testing::run_command("chmod -R a-w " + ws).exit_code == 0);
  struct Restore {  // so that the directory can be removed
    std::string ws;
    ~Restore() { testing::run_command("chmod -R u+w " + ws); }
  } restore{ws};
  std::set<std::string> before = listing(ws);

  auto b = run(as_user, "build");
  CHECK(b.exit_code == 1);
  CHECK_MESSAGE(b.output.find("the workspace is not writable") != std::string::npos, b.output);

  auto plan = run(as_user, "plan");
  CHECK_MESSAGE(plan.exit_code == 0, plan.output);
  CHECK(plan.output.find("sales@fr: never built") != std::string::npos);
  CHECK(plan.output.find("2 stale, 4 up to date") != std::string::npos);
  auto status = run(as_user, "status");
  CHECK_MESSAGE(status.exit_code == 0, status.output);
  auto why = run(as_user, "why totals@us");
  CHECK(why.exit_code == 0);
  CHECK(why.output == "totals@us is up to date\n");
  auto verify = run(as_user, "verify");
  CHECK_MESSAGE(verify.exit_code == 0, verify.output);
  CHECK(verify.output.find("verified 4 partitions: 0 mismatches") != std::string::npos);

  CHECK(listing(ws) == before);  // nothing created
}

}  // namespace
}  // namespace dbuild
