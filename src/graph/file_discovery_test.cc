#include "graph/file_discovery.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <doctest/doctest.h>

#include "model/model_builder.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace dbuild {
namespace {

/// Discovers the partitions of the one source `s` of `path_template` in `dir`.
Result<std::vector<DiscoveredFile>> discover(const testing::TempDir& dir, const std::string& path_template,
                                             const std::string& keys) {
  dir.write("workspace.dbuild", "");
  dir.write("rules.dbuild", "source s { path = \"" + path_template + "\" format = csv " + keys + " }\n");
  Workspace ws;
  Diagnostics diags;
  load_workspace(dir.path(), ws, diags);
  Model model = build_model(ws, {}, diags);
  REQUIRE(render(diags, ws.files) == "");
  StringPool pool;
  std::vector<std::string> skipped;
  return discover_files(model.root, *model.find("s"), pool, &skipped);
}

TEST_CASE("file discovery: a matching path that is not a regular file is an error naming it") {
  testing::TempDir dir;
  dir.write("data/2024-01-01.csv", "x\n");
  fs::create_symlink(dir / "data/2024-01-01.csv", dir / "data/2024-01-03.csv");  // a link to a file is fine
  auto ok = discover(dir, "data/{day}.csv", "partition day: date");
  REQUIRE(ok.ok());
  CHECK(ok->size() == 2);

  fs::create_directory(dir / "data/2024-01-02.csv");
  auto d = discover(dir, "data/{day}.csv", "partition day: date");
  REQUIRE(!d.ok());
  CHECK(d.status().message().starts_with("source `s`: data/2024-01-02.csv is a directory, under its path template"));
  fs::remove(dir / "data/2024-01-02.csv");

  REQUIRE(::mkfifo((dir / "data/2024-01-02.csv").c_str(), 0644) == 0);
  CHECK(discover(dir, "data/{day}.csv", "partition day: date").status().message().find("data/2024-01-02.csv is a FIFO") !=
        std::string::npos);
  fs::remove(dir / "data/2024-01-02.csv");

  fs::create_symlink(dir / "gone.csv", dir / "data/2024-01-02.csv");
  CHECK(discover(dir, "data/{day}.csv", "partition day: date").status().message().find(
            "data/2024-01-02.csv is a dangling symbolic link") != std::string::npos);
  fs::remove(dir / "data/2024-01-02.csv");

  fs::create_directory(dir / "one.csv");  // an unpartitioned source's one path
  CHECK(discover(dir, "one.csv", "").status().message().find("one.csv is a directory") != std::string::npos);
}

TEST_CASE("file discovery: a dangling link where a directory is expected is an error, a missing one is not") {
  testing::TempDir dir;
  dir.write("data/2024-01-01/x.csv", "x\n");
  fs::create_symlink(dir / "unmounted", dir / "data/2024-01-02");
  auto r = discover(dir, "data/{day}/x.csv", "partition day: date");
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("data/2024-01-02 is a dangling symbolic link") != std::string::npos);
  fs::remove(dir / "data/2024-01-02");
  CHECK(discover(dir, "data/{day}/x.csv", "partition day: date").ok());
  CHECK(discover(dir, "nothing/{day}/x.csv", "partition day: date")->empty());
}

TEST_CASE("file discovery: a directory that cannot be listed is an error") {
  if (::geteuid() == 0) {
    MESSAGE("skipped: root lists any directory");
    return;
  }
  testing::TempDir dir;
  dir.write("data/2024-01-01.csv", "x\n");
  fs::permissions(dir / "data", fs::perms::none);
  auto r = discover(dir, "data/{day}.csv", "partition day: date");
  fs::permissions(dir / "data", fs::perms::owner_all);
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("data cannot be listed") != std::string::npos);
}

}  // namespace
}  // namespace dbuild
