#include "state/build_lock.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <re2/re2.h>

#include "test_util.h"

namespace dbuild {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

/// The message a second acquire gets while `pid` holds the lock for "dbuild build -j2".
bool names_holder(const std::string& message, pid_t pid) {
  RE2 expected(fmt::format(
      R"(another dbuild build is running \(pid {}, started \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d: )"
      R"(dbuild build -j2\); wait for it or stop it)",
      pid));
  return RE2::FullMatch(message, expected);
}

TEST_CASE("build_lock: a second acquire in the same process names the holder") {
  TempDir tmp;
  std::string path = tmp.sub("build.lock");
  Result<BuildLock> lock = BuildLock::acquire(path, "dbuild build -j2");
  REQUIRE(lock.ok());
  CHECK(lock->held());
  CHECK(read_file(path).starts_with(fmt::format("pid {}\nstarted ", ::getpid())));

  Result<BuildLock> second = BuildLock::acquire(path, "dbuild build");
  REQUIRE_FALSE(second.ok());
  CHECK_MESSAGE(names_holder(second.status().message(), ::getpid()), second.status().message());

  lock->release();
  CHECK_FALSE(lock->held());
  CHECK(read_file(path).empty());
  CHECK(BuildLock::acquire(path, "dbuild build").ok());
}

TEST_CASE("build_lock: another process is refused with the holder's pid") {
  TempDir tmp;
  std::string path = tmp.sub("build.lock");
  Result<BuildLock> lock = BuildLock::acquire(path, "dbuild build -j2");
  REQUIRE(lock.ok());
  int out[2];
  REQUIRE(::pipe(out) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    Result<BuildLock> theirs = BuildLock::acquire(path, "dbuild build");
    std::string message = theirs.ok() ? "acquired" : theirs.status().message();
    bool written = ::write(out[1], message.data(), message.size()) ==
                   static_cast<ssize_t>(message.size());
    _exit(written ? 0 : 1);
  }
  ::close(out[1]);
  std::string message;
  char buf[512];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) message.append(buf, n);
  ::close(out[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK_MESSAGE(names_holder(message, ::getpid()), message);
}

TEST_CASE("build_lock: a lock left by a dead process is free") {
  TempDir tmp;
  std::string path = tmp.sub("build.lock");
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    Result<BuildLock> lock = BuildLock::acquire(path, "dbuild build -j2");
    _exit(lock.ok() ? 0 : 1);  // dies holding it: no destructor runs
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK(read_file(path).starts_with(fmt::format("pid {}\n", child)));  // its record remains
  Result<BuildLock> lock = BuildLock::acquire(path, "dbuild build");
  REQUIRE(lock.ok());
  CHECK(read_file(path).starts_with(fmt::format("pid {}\n", ::getpid())));
}

TEST_CASE("build_lock: moves transfer the lock - errors name the path") {
  TempDir tmp;
  std::string path = tmp.sub("build.lock");
  BuildLock outer;
  CHECK_FALSE(outer.held());
  {
    Result<BuildLock> lock = BuildLock::acquire(path, "dbuild build -j2");
    REQUIRE(lock.ok());
    outer = std::move(*lock);
    CHECK_FALSE(lock->held());
  }  // the moved-from lock's destruction releases nothing
  CHECK(outer.held());
  CHECK_FALSE(BuildLock::acquire(path, "x").ok());
  BuildLock moved(std::move(outer));
  moved.release();
  CHECK(BuildLock::acquire(path, "x").ok());

  Result<BuildLock> nowhere = BuildLock::acquire(tmp.sub("missing/build.lock"), "x");
  REQUIRE_FALSE(nowhere.ok());
  CHECK(nowhere.status().message().starts_with("cannot open " + tmp.sub("missing/build.lock")));
}

}  // namespace
}  // namespace dbuild
