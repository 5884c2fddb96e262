// End-to-end: damaged state records heal, and a damaged warehouse fails with what to do.
#include <filesystem>
#include <fstream>
#include <iterator>

#include <doctest/doctest.h>

#include "test_util.h"

namespace fs = std::filesystem;

namespace dbuild {
namespace {

/// Two regions, each a source partition and a computed one.
struct Regions {
  testing::TempDir dir;
  std::string err;
  int code = -1;

  Regions() {
    dir.write("workspace.dbuild", "");
    dir.write("rules.dbuild", R"(
source sales { path = "data/{region}.csv"  format = csv  partition region: string }
table totals { partition region: string  sql "SELECT count(*) AS n FROM sales" }
)");
    dir.write("data/eu.csv", "x\n1\n");
    dir.write("data/us.csv", "x\n2\n3\n");
  }
  std::string run(const std::string& args) {
    testing::DbuildIn dbuild{dir.path()};
    std::string out = dbuild.run(args);
    err = dbuild.err;
    code = dbuild.code;
    return out;
  }
};

/// Flips one bit inside the value stored under `key` in an LMDB data file: the byte `offset`
/// bytes after each copy of the key that is a partition key (not the prefix of a log key).
/// Returns how many copies were changed.
int flip_value_byte(const std::string& data_mdb, const std::string& key, size_t offset) {
  std::ifstream in(data_mdb, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int flipped = 0;
  for (size_t at = bytes.find(key); at != std::string::npos; at = bytes.find(key, at + 1)) {
    size_t end = at + key.size();
    if (end + offset >= bytes.size() || bytes[end] == '\0') continue;
    bytes[end + offset] ^= 0x01;
    ++flipped;
  }
  std::ofstream(data_mdb, std::ios::binary | std::ios::trunc) << bytes;
  return flipped;
}

TEST_CASE("e2e: a state record with a flipped bit is set aside once and its partition rebuilt") {
  Regions w;
  w.run("build");
  REQUIRE(w.code == 0);
  REQUIRE(flip_value_byte(w.dir / ".dbuild/state/data.mdb", std::string("totals\0us", 9), 20) >= 1);
  w.run("plan");
  CHECK(w.code == 0);
  CHECK(w.err.find("1 damaged record") != std::string::npos);
  std::string verified = w.run("verify");
  CHECK(w.code == 1);
  CHECK(verified.find("totals@us: its state record is damaged") != std::string::npos);

  w.run("build");
  CHECK(w.code == 0);
  CHECK(w.err.find("dbuild: 1 damaged state record set aside; its partition will be rebuilt") != std::string::npos);
  CHECK(w.err.find("ran totals@us") != std::string::npos);
  CHECK(w.err.find("ran totals@eu") == std::string::npos);
  CHECK(w.run("verify") == "verified 4 partitions: 0 mismatches\n");
  CHECK(w.code == 0);
  std::string again = w.run("build");
  CHECK(w.code == 0);
  CHECK(w.err.find("damaged") == std::string::npos);  // said once
  CHECK(again.find("ran 0, up to date 4") != std::string::npos);
}

TEST_CASE("e2e: a warehouse that is not a database fails every command with what to do, and moving it aside rebuilds") {
  Regions w;
  w.run("build");
  REQUIRE(w.code == 0);
  std::string warehouse = w.dir / "warehouse.db";
  // Every page in the file itself first: a page 1 still in the WAL would be read from there,
  // and the damaged header below would go unseen.
  auto checkpoint = testing::run_command("sqlite3 " + warehouse + " 'PRAGMA wal_checkpoint(TRUNCATE);'");
  REQUIRE_MESSAGE(checkpoint.exit_code == 0, checkpoint.output);
  {
    std::fstream f(warehouse, std::ios::binary | std::ios::in | std::ios::out);
    f.write("this is no db!!!", 16);  // the 16-byte SQLite header
  }
  for (const char* cmd : {"build", "plan", "status", "verify"}) {
    w.run(cmd);
    CHECK_MESSAGE(w.code == 1, cmd);
    CHECK_MESSAGE(w.err.find("file is not a database") != std::string::npos, cmd, w.err);
    CHECK_MESSAGE(w.err.find("move it aside") != std::string::npos, cmd, w.err);
    CHECK_MESSAGE(w.err.find("run `dbuild build` to rebuild everything") != std::string::npos, cmd, w.err);
  }
  fs::rename(warehouse, warehouse + ".damaged");
  for (const char* side : {"-wal", "-shm"}) fs::remove(warehouse + side);
  std::string rebuilt = w.run("build");
  CHECK(w.code == 0);
  CHECK(rebuilt.find("ran 4,") != std::string::npos);
  w.run("verify");
  CHECK(w.code == 0);
}

TEST_CASE("e2e: a malformed warehouse (its schema page damaged) fails with what to do, never a crash") {
  Regions w;
  w.run("build");
  REQUIRE(w.code == 0);
  std::string warehouse = w.dir / "warehouse.db";
  {
    std::fstream f(warehouse, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(100);  // past the header: the first page's b-tree, which holds the schema
    std::string junk(3996, 'Z');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  for (const char* cmd : {"build", "plan"}) {
    w.run(cmd);
    CHECK_MESSAGE(w.code == 1, cmd);
    CHECK_MESSAGE(w.err.find("database disk image is malformed") != std::string::npos, cmd, w.err);
    CHECK_MESSAGE(w.err.find("Restore it from a backup, or move it aside") != std::string::npos, cmd, w.err);
  }
}

}  // namespace
}  // namespace dbuild
