// The state store: scans that read past damaged records, and a read-only store in a directory
// its user cannot write.
#include <lmdb.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "state/state_codec.h"
#include "state/raw_lmdb_for_tests.h"
#include "state/state_store.h"
#include "test_util.h"

namespace dbuild {
namespace {

using Mode = StateStore::OpenMode;

PartitionRecord record_of(uint64_t i) {
  PartitionRecord r;
  r.key = {i, i + 1};
  r.fingerprint = {i * 5, i};
  r.status = PartitionStatus::kBuiltOk;
  r.row_count = static_cast<int64_t>(i);
  r.run_id = 1;
  return r;
}

using testing::poke_raw;

std::unique_ptr<StateStore> open_unchecked(const std::string& dir, Mode mode) {
  StateStoreOptions options;
  options.check_records = false;
  auto opened = StateStore::open(dir, mode, options);
  REQUIRE_MESSAGE(opened.ok(), opened.status().message());
  REQUIRE_MESSAGE(opened->condition == StateStore::Condition::kUsable, opened->reason);
  return std::move(opened->store);
}

TEST_CASE("state_store: a scan that collects damaged records reads every sound one and names the damaged") {
  testing::TempDir tmp;
  std::string dir = tmp.sub("state");
  {
    auto store = open_unchecked(dir, Mode::kReadWrite);
    for (uint64_t i = 0; i < 5; ++i) REQUIRE(store->put_partition("t", fmt::format("p{}", i), record_of(i)).ok());
  }
  std::string key = state_codec::partition_key("t", "p2");
  std::string value = state_codec::encode_partition(key, record_of(2));
  value[20] ^= 0x01;
  poke_raw(dir, "partitions", key, value);

  auto store = open_unchecked(dir, Mode::kReadWrite);
  auto txn = store->read();
  REQUIRE(txn.ok());
  std::set<std::string> seen;
  auto fn = [&](std::string_view, std::string_view p, const PartitionRecord&) { seen.emplace(p); };
  CHECK_FALSE(txn->for_each_partition_of("t", fn).ok());  // without a list: an error, never a guess
  seen.clear();
  std::vector<std::string> damaged;
  REQUIRE(txn->for_each_partition_of("t", fn, &damaged).ok());
  CHECK(seen == std::set<std::string>{"p0", "p1", "p3", "p4"});
  CHECK(damaged == std::vector<std::string>{"p2"});
  txn = Result<ReadTxn>(Status::Error("released"));

  WriteBatch forget;
  forget.delete_partition("t", "p2");
  REQUIRE(store->commit(forget).ok());
  CHECK(store->for_each_partition([](auto, auto, const auto&) {}).ok());  // healed
}

TEST_CASE("state_store: read-only in a directory the user cannot write opens without creating files") {
  if (::geteuid() == 0) {
    MESSAGE("skipped: root writes anywhere (tests/read_only_e2e_test.cc covers it as user nobody)");
    return;
  }
  testing::TempDir tmp;
  std::string dir = tmp.sub("state");
  {
    auto store = open_unchecked(dir, Mode::kReadWrite);
    REQUIRE(store->put_partition("t", "p", record_of(1)).ok());
  }
  namespace fs = std::filesystem;
  fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
  fs::permissions(dir + "/lock.mdb", fs::perms::owner_read);
  {
    auto store = open_unchecked(dir, Mode::kReadOnly);
    auto r = store->get_partition("t", "p");
    REQUIRE(r.ok());
    CHECK((*r)->row_count == 1);
  }
  fs::permissions(dir, fs::perms::owner_all);
  fs::permissions(dir + "/lock.mdb", fs::perms::owner_read | fs::perms::owner_write);
}

}  // namespace
}  // namespace dbuild
