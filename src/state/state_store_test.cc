#include "state/state_store.h"

#include <lmdb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include <doctest/doctest.h>

#include "test_util.h"
#include <fmt/format.h>

#include "state/raw_lmdb_for_tests.h"
#include "state/state_codec.h"

namespace dbuild {
namespace {

namespace fs = std::filesystem;
using Mode = StateStore::OpenMode;
using Condition = StateStore::Condition;

using testing::TempDir;

std::unique_ptr<StateStore> open_usable(const std::string& dir, Mode mode = Mode::kReadWrite,
                                        const StateStoreOptions& options = {}) {
  Result<StateStore::Opened> opened = StateStore::open(dir, mode, options);
  REQUIRE_MESSAGE(opened.ok(), opened.status().message());
  REQUIRE_MESSAGE(opened->condition == Condition::kUsable, opened->reason);
  return std::move(opened->store);
}

PartitionRecord built(uint64_t i) {
  PartitionRecord r;
  r.key = {i, i * 3 + 1};
  r.fingerprint = {i * 7 + 2, i ^ 0xABCDEF};
  r.status = PartitionStatus::kBuiltOk;
  r.started_unix_ms = 1'700'000'000'000 + static_cast<int64_t>(i);
  r.finished_unix_ms = r.started_unix_ms + 250;
  r.duration_ms = 250;
  r.row_count = static_cast<int64_t>(i * 10);
  r.run_id = 1;
  return r;
}

std::string day(int i) { return fmt::format("2024-{:02}-{:02}", 1 + i / 28 % 12, 1 + i % 28); }

void poke(const std::string& dir, const char* db, std::string_view key, std::string_view value) {
  testing::poke_raw(dir, db, key, value);
}

/// The stored format version.
uint32_t read_version(const std::string& dir) {
  std::optional<std::string> v = testing::peek_raw(dir, "meta", "version");
  REQUIRE(v.has_value());
  uint32_t version = 0;
  CHECK(state_codec::decode_version(*v, &version).ok());
  return version;
}

TEST_CASE("state_store: partitions round-trip, in key order") {
  TempDir tmp;
  auto store = open_usable(tmp.sub("state"));
  WriteBatch batch;
  batch.put_partition("sales", "2024-03-05", built(1));
  batch.put_partition("sales", "2024-03-04", built(2));
  batch.put_partition("totals", "", built(3));
  batch.put_partition("orders", "2024-03-05", built(4));
  REQUIRE(store->commit(batch).ok());

  auto got = store->get_partition("sales", "2024-03-05");
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK(**got == built(1));
  CHECK(store->get_partition("totals", "")->value() == built(3));
  CHECK_FALSE(store->get_partition("sales", "2099-01-01")->has_value());
  CHECK_FALSE(store->get_partition("", "")->has_value());  // invalid names are simply absent

  std::vector<std::string> seen;
  REQUIRE(store->for_each_partition([&](std::string_view d, std::string_view p,
                                        const PartitionRecord&) {
                 seen.push_back(fmt::format("{}@{}", d, p));
               }).ok());
  CHECK(seen == std::vector<std::string>{"orders@2024-03-05", "sales@2024-03-04",
                                         "sales@2024-03-05", "totals@"});
  auto txn = store->read();
  REQUIRE(txn.ok());
  seen.clear();
  REQUIRE(txn->for_each_partition_of("sales", [&](std::string_view, std::string_view p,
                                                   const PartitionRecord& r) {
                 seen.push_back(std::string(p));
                 CHECK(r.has_build());
               }).ok());
  CHECK(seen == std::vector<std::string>{"2024-03-04", "2024-03-05"});
}

TEST_CASE("state_store: a failure keeps the previous key and fingerprint") {
  TempDir tmp;
  auto store = open_usable(tmp.sub("state"));
  REQUIRE(store->put_partition("sales", "2024-03-05", built(1)).ok());
  Hash128 bad_key{99, 98};
  REQUIRE(store->record_failure("sales", "2024-03-05", bad_key, 2, "no such column: amt").ok());

  PartitionRecord r = store->get_partition("sales", "2024-03-05")->value();
  CHECK(r.status == PartitionStatus::kFailed);
  CHECK(r.key == built(1).key);
  CHECK(r.fingerprint == built(1).fingerprint);
  CHECK(r.row_count == built(1).row_count);
  CHECK(r.run_id == 1);
  CHECK(r.failed_key == bad_key);
  CHECK(r.failed_run_id == 2);
  auto txn = store->read();
  auto log = txn->latest_log("sales", "2024-03-05");
  REQUIRE(log.ok());
  REQUIRE(log->has_value());
  CHECK((*log)->run_id == 2);
  CHECK((*log)->text == "no such column: amt");
  txn = ReadTxn();  // release before writing

  SUBCASE("a partition that never succeeded") {
    REQUIRE(store->record_failure("sales", "2024-03-06", bad_key, 2, "boom").ok());
    PartitionRecord never = store->get_partition("sales", "2024-03-06")->value();
    CHECK_FALSE(never.has_build());
    CHECK(never.status == PartitionStatus::kFailed);
    CHECK(never.row_count == -1);
  }
  SUBCASE("a later success replaces the failure") {
    PartitionRecord ok = built(5);
    REQUIRE(store->put_partition("sales", "2024-03-05", ok).ok());
    CHECK(store->get_partition("sales", "2024-03-05")->value() == ok);
  }
}

TEST_CASE("state_store: runs round-trip") {
  TempDir tmp;
  auto store = open_usable(tmp.sub("state"));
  Result<uint64_t> first = store->begin_run("dbuild build", 1000);
  Result<uint64_t> second = store->begin_run("dbuild build -j2", 2000);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(*first == 1);
  CHECK(*second == 2);
  REQUIRE(store->finish_run(2, RunOutcome{2500, {3, 4, 5, 1}, 1}).ok());
  CHECK_FALSE(store->finish_run(77, RunOutcome{}).ok());

  auto txn = store->read();
  REQUIRE(txn.ok());
  RunRecord run = txn->run(2)->value();
  CHECK(run.command_line == "dbuild build -j2");
  CHECK(run.started_unix_ms == 2000);
  CHECK(run.finished_unix_ms == 2500);
  CHECK(run.counts == RunCounts{3, 4, 5, 1});
  CHECK(run.exit_status == 1);
  CHECK(txn->run(1)->value().exit_status == -1);  // unfinished
  CHECK_FALSE(txn->run(3)->has_value());
  auto runs = txn->runs(10);
  REQUIRE(runs.ok());
  REQUIRE(runs->size() == 2);
  CHECK((*runs)[0].run_id == 2);  // newest first
  CHECK(txn->runs(1)->size() == 1);
}

TEST_CASE("state_store: logs round-trip, and the latest is found by prefix") {
  TempDir tmp;
  auto store = open_usable(tmp.sub("state"));
  WriteBatch batch;
  batch.put_log("sales", "2024-03-05", 1, "first");
  batch.put_log("sales", "2024-03-05", 2, "second");
  batch.put_log("sales", "2024-03-051", 3, "other partition");
  batch.put_log("sale", "s", 4, "other dataset");
  batch.put_log("big", "", 2, std::string(200'000, 'x'));
  REQUIRE(store->commit(batch).ok());

  auto txn = store->read();
  REQUIRE(txn.ok());
  CHECK(txn->log("sales", "2024-03-05", 1)->value() == "first");
  CHECK_FALSE(txn->log("sales", "2024-03-05", 3)->has_value());
  CHECK((*txn->latest_log("sales", "2024-03-05"))->text == "second");
  CHECK((*txn->latest_log("sales", "2024-03-051"))->run_id == 3);
  CHECK_FALSE(txn->latest_log("sales", "2024-03-0")->has_value());
  CHECK_FALSE(txn->latest_log("zzz", "")->has_value());
  std::string big = (*txn->latest_log("big", ""))->text;
  CHECK(big.size() <= kMaxLogBytes);
  CHECK(big.find("bytes elided") != std::string::npos);
}

TEST_CASE("state_store: the stat cache round-trips") {
  TempDir tmp;
  auto store = open_usable(tmp.sub("state"));
  StatEntry st{1, 2, 3, 4, 5, {6, 7}};
  WriteBatch batch;
  batch.put_stat("data/raw/2024-03-05.csv", st);
  batch.put_stat("data/raw/gone.csv", st);
  batch.put_stat(std::string(600, 'p'), st);  // too long: not cached
  REQUIRE(store->commit(batch).ok());
  WriteBatch forget;
  forget.delete_stat("data/raw/gone.csv");
  REQUIRE(store->commit(forget).ok());

  auto txn = store->read();
  REQUIRE(txn.ok());
  CHECK(txn->stat("data/raw/2024-03-05.csv")->value() == st);
  CHECK_FALSE(txn->stat("data/raw/gone.csv")->has_value());
  CHECK_FALSE(txn->stat("data/raw/2024-03-06.csv")->has_value());
  CHECK_FALSE(txn->stat(std::string(600, 'p'))->has_value());
}

TEST_CASE("state_store: deletes") {
  TempDir tmp;
  auto store = open_usable(tmp.sub("state"));
  WriteBatch batch;
  for (int i = 0; i < 50; ++i) batch.put_partition("sales", day(i), built(i));
  batch.put_partition("sales2", "x", built(100));
  batch.put_partition("sale", "x", built(101));
  REQUIRE(store->commit(batch).ok());
  REQUIRE(store->delete_partition("sales", day(3)).ok());
  CHECK_FALSE(store->get_partition("sales", day(3))->has_value());
  CHECK(store->get_partition("sales", day(4))->has_value());

  WriteBatch clear;
  clear.delete_dataset("sales");
  REQUIRE(store->commit(clear).ok());
  size_t left = 0;
  REQUIRE(store->for_each_partition([&](std::string_view d, std::string_view, const auto&) {
                 CHECK(d != "sales");
                 ++left;
               }).ok());
  CHECK(left == 2);
}

TEST_CASE("state_store: an invalid name fails the whole batch") {
  TempDir tmp;
  auto store = open_usable(tmp.sub("state"));
  WriteBatch batch;
  batch.put_partition("sales", "2024-03-05", built(1));
  batch.put_partition(std::string("bad\0name", 8), "x", built(2));
  CHECK_FALSE(batch.status().ok());
  Status s = store->commit(batch);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("NUL") != std::string::npos);
  CHECK_FALSE(store->get_partition("sales", "2024-03-05")->has_value());
}

TEST_CASE("state_store: reopening reads what was committed") {
  TempDir tmp;
  std::string dir = tmp.sub("state");
  {
    auto store = open_usable(dir);
    REQUIRE(store->put_partition("sales", "2024-03-05", built(1)).ok());
    REQUIRE(store->begin_run("dbuild build", 1).ok());
    REQUIRE(store->begin_run("dbuild build", 2).ok());
  }
  auto store = open_usable(dir);
  CHECK(store->get_partition("sales", "2024-03-05")->value() == built(1));
  Result<uint64_t> run = store->begin_run("dbuild build", 3);
  REQUIRE(run.ok());
  CHECK(*run == 3);  // the run counter survives
}

TEST_CASE("state_store: one store per directory per process") {
  TempDir tmp;
  std::string dir = tmp.sub("state");
  auto store = open_usable(dir);
  Result<StateStore::Opened> second = StateStore::open(dir + "/", Mode::kReadOnly);
  CHECK_FALSE(second.ok());
  CHECK(second.status().message().find("already open in this process") != std::string::npos);
  CHECK_FALSE(StateStore::reset(dir).ok());
  store.reset();
  CHECK(StateStore::open(dir, Mode::kReadOnly).ok());
}

TEST_CASE("state_store: the map grows beyond its initial size") {
  TempDir tmp;
  std::string dir = tmp.sub("state");
  StateStoreOptions options;
  options.initial_map_bytes = 1 << 20;
  constexpr int kBatches = 20;
  constexpr int kPerBatch = 2000;
  {
    auto store = open_usable(dir, Mode::kReadWrite, options);
    size_t initial = store->map_bytes();
    CHECK(initial == options.initial_map_bytes);
    for (int b = 0; b < kBatches; ++b) {
      WriteBatch batch;
      for (int i = 0; i < kPerBatch; ++i) {
        batch.put_partition(fmt::format("dataset_{}", b), fmt::format("{:06}", i),
                            built(b * kPerBatch + i));
      }
      batch.put_log("logs", "", b, std::string(60'000, 'a' + b % 26));
      REQUIRE(store->commit(batch).ok());
    }
    CHECK(store->map_bytes() >= 8 * initial);
    CHECK(fs::file_size(dir + "/data.mdb") > 4 * initial);
  }
  auto store = open_usable(dir, Mode::kReadOnly, options);
  size_t count = 0;
  REQUIRE(store->for_each_partition([&](std::string_view, std::string_view,
                                        const PartitionRecord&) { ++count; }).ok());
  CHECK(count == kBatches * kPerBatch);
  CHECK(store->get_partition("dataset_7", "000123")->value() == built(7 * kPerBatch + 123));
}

TEST_CASE("state_store: readers in threads beside a writer that grows the map") {
  TempDir tmp;
  StateStoreOptions options;
  options.initial_map_bytes = 1 << 20;
  auto store = open_usable(tmp.sub("state"), Mode::kReadWrite, options);
  std::atomic<bool> done{false};
  std::atomic<int> reader_errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        Result<ReadTxn> txn = store->read();
        size_t n = 0;
        if (!txn.ok() || !txn->for_each_partition([&](auto, auto, const auto&) { ++n; }).ok()) {
          ++reader_errors;
        }
        CHECK(n % 1000 == 0);  // batches are atomic
      }
    });
  }
  for (int b = 0; b < 20; ++b) {
    WriteBatch batch;
    for (int i = 0; i < 1000; ++i) batch.put_partition("t", fmt::format("{}-{}", b, i), built(i));
    REQUIRE(store->commit(batch).ok());
  }
  done = true;
  for (std::thread& t : readers) t.join();
  CHECK(reader_errors == 0);
  CHECK(store->map_bytes() > options.initial_map_bytes);
}

TEST_CASE("state_store: a reader may open another snapshot while a resize waits for it") {
  TempDir tmp;
  StateStoreOptions options;
  options.initial_map_bytes = 1 << 20;
  auto store = open_usable(tmp.sub("state"), Mode::kReadWrite, options);
  Result<ReadTxn> first = store->read();
  REQUIRE(first.ok());
  std::atomic<bool> done{false};
  bool committed = false;
  std::thread writer([&] {
    WriteBatch batch;  // 2.4 MB: the map must grow, which waits for `first`
    for (int i = 0; i < 40; ++i) batch.put_log("big", "", i, std::string(60'000, 'x'));
    committed = store->commit(batch).ok();
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK_FALSE(done);
  Result<ReadTxn> second = store->read();  // must not wait behind the resize that waits for us
  REQUIRE(second.ok());
  *second = ReadTxn();
  *first = ReadTxn();
  writer.join();
  CHECK(committed);
  CHECK(store->map_bytes() > options.initial_map_bytes);
}

TEST_CASE("state_store: a thread holding a ReadTxn cannot write") {
  TempDir tmp;
  auto store = open_usable(tmp.sub("state"));
  Result<ReadTxn> txn = store->read();
  REQUIRE(txn.ok());
  Status s = store->put_partition("sales", "x", built(1));
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("holds a ReadTxn") != std::string::npos);
  *txn = ReadTxn();
  CHECK(store->put_partition("sales", "x", built(1)).ok());
}

TEST_CASE("state_store: read-only mode") {
  TempDir tmp;
  std::string dir = tmp.sub("state");
  Result<StateStore::Opened> missing = StateStore::open(dir, Mode::kReadOnly);
  REQUIRE(missing.ok());
  CHECK(missing->condition == Condition::kMissing);
  CHECK_FALSE(fs::exists(dir));  // read-only never creates anything
  open_usable(dir)->put_partition("sales", "x", built(1));
  auto store = open_usable(dir, Mode::kReadOnly);
  CHECK(store->get_partition("sales", "x")->value() == built(1));
  CHECK_FALSE(store->put_partition("sales", "y", built(2)).ok());
}

/// Writes one partition record with raw LMDB inside a write transaction that stays open until
/// the parent says so. Runs in a forked child; reports through its exit code.
[[noreturn]] void hold_write_txn(const std::string& dir, int ready_fd, int go_fd) {
  MDB_env* env = nullptr;
  MDB_txn* txn = nullptr;
  MDB_dbi dbi;
  bool ok = mdb_env_create(&env) == 0 && mdb_env_set_maxdbs(env, 8) == 0 &&
            mdb_env_open(env, dir.c_str(), 0, 0644) == 0 &&
            mdb_txn_begin(env, nullptr, 0, &txn) == 0 &&
            mdb_dbi_open(txn, "partitions", 0, &dbi) == 0;
  std::string key = state_codec::partition_key("sales", "new");
  std::string value = state_codec::encode_partition(key, built(2));
  MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
  ok = ok && mdb_put(txn, dbi, &k, &v, 0) == 0;
  char c = ok ? 'y' : 'n';
  ok = ok && ::write(ready_fd, &c, 1) == 1 && ::read(go_fd, &c, 1) == 1;
  ok = ok && mdb_txn_commit(txn) == 0;
  _exit(ok ? 0 : 1);
}

TEST_CASE("state_store: a read-only store works while another process holds a write txn") {
  TempDir tmp;
  std::string dir = tmp.sub("state");
  open_usable(dir)->put_partition("sales", "old", built(1));
  int ready[2], go[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(go) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) hold_write_txn(dir, ready[1], go[0]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  REQUIRE(c == 'y');

  auto store = open_usable(dir, Mode::kReadOnly);  // the writer is mid-transaction
  CHECK(store->get_partition("sales", "old")->value() == built(1));
  CHECK_FALSE(store->get_partition("sales", "new")->has_value());  // not committed yet

  REQUIRE(::write(go[1], "g", 1) == 1);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(store->get_partition("sales", "new")->value() == built(2));  // a new snapshot sees it
  for (int fd : {ready[0], ready[1], go[0], go[1]}) ::close(fd);
}

TEST_CASE("state_store: a version 1 state keeps its records and is upgraded in place") {
  TempDir tmp;
  std::string dir = tmp.sub("state");
  open_usable(dir)->put_partition("sales", "x", built(1));
  poke(dir, "meta", "version", state_codec::encode_version(1));
  {
    auto ro = open_usable(dir, Mode::kReadOnly);  // a reader reads it as it is
    CHECK(ro->get_partition("sales", "x")->value() == built(1));
  }
  {
    auto rw = open_usable(dir);
    CHECK(rw->get_partition("sales", "x")->value() == built(1));
  }
  CHECK(read_version(dir) == state_codec::kFormatVersion);
}

TEST_CASE("group: the groups of a table survive reopening and pass the record check") {
  TempDir tmp;
  std::string dir = tmp.sub("state");
  std::vector<GroupRecord> groups = {{"g000001", {"2024-01-01", "2024-01-02"}, true, 5},
                                     {"g000002", {"2024-01-03"}, false, 7}};
  REQUIRE(open_usable(dir)->put_groups("batched", groups).ok());
  StateStoreOptions check;
  check.check_records = true;
  auto store = open_usable(dir, Mode::kReadOnly, check);
  auto txn = store->read();
  REQUIRE(txn.ok());
  CHECK(txn->groups("batched").value() == groups);
  CHECK(txn->groups("other").value().empty());
}

TEST_CASE("group: a version 2 state is read as it is and upgraded in place") {
  TempDir tmp;
  std::string dir = tmp.sub("state");
  open_usable(dir)->put_partition("sales", "x", built(1));
  poke(dir, "meta", "version", state_codec::encode_version(2));
  CHECK(open_usable(dir)->get_partition("sales", "x")->value() == built(1));
  CHECK(read_version(dir) == 3);
}

TEST_CASE("state_store: an attempt in flight keeps the previous success and is cleared by its outcome") {
  TempDir tmp;
  auto store = open_usable(tmp.sub("state"));
  REQUIRE(store->put_partition("sales", "x", built(1)).ok());
  WriteBatch start;
  start.record_start("sales", "x", Hash128{7, 7}, 42);
  start.record_start("sales", "never_built", Hash128{8, 8}, 42);
  REQUIRE(store->commit(start).ok());
  PartitionRecord r = store->get_partition("sales", "x")->value();
  CHECK(r.status == PartitionStatus::kInFlight);
  CHECK(r.failed_key == Hash128{7, 7});
  CHECK(r.failed_run_id == 42);
  CHECK(r.key == built(1).key);
  CHECK(r.fingerprint == built(1).fingerprint);
  CHECK_FALSE(store->get_partition("sales", "never_built")->has_value());
  REQUIRE(store->put_partition("sales", "x", built(2)).ok());
  CHECK(store->get_partition("sales", "x")->value() == built(2));
}

TEST_CASE("state_store: a version mismatch is reported, and reset starts afresh") {
  TempDir tmp;
  std::string dir = tmp.sub("state");
  open_usable(dir)->put_partition("sales", "x", built(1));
  poke(dir, "meta", "version", state_codec::encode_version(99));

  Result<StateStore::Opened> opened = StateStore::open(dir, Mode::kReadWrite);
  REQUIRE(opened.ok());
  CHECK(opened->condition == Condition::kVersionMismatch);
  CHECK(opened->store == nullptr);
  CHECK(opened->reason == fmt::format("it has format version 99, this dbuild uses {}", state_codec::kFormatVersion));

  std::string notice;
  Result<std::unique_ptr<StateStore>> fresh = StateStore::open_or_reset(dir, &notice);
  REQUIRE(fresh.ok());
  CHECK(notice.find("from another dbuild version") != std::string::npos);
  CHECK(notice.find(dir + ".old-") != std::string::npos);
  CHECK_FALSE((*fresh)->get_partition("sales", "x")->has_value());
  REQUIRE((*fresh)->put_partition("sales", "y", built(2)).ok());
  fresh->reset();

  int moved = 0;
  for (const auto& entry : fs::directory_iterator(tmp.path())) {
    moved += entry.path().filename().string().starts_with("state.old-");
  }
  CHECK(moved == 1);
  notice = "stale";
  REQUIRE(StateStore::open_or_reset(dir, &notice).ok());
  CHECK(notice.empty());  // said once
}

TEST_CASE("state_store: a damaged record is found on open") {
  TempDir tmp;
  std::string dir = tmp.sub("state");
  {
    auto store = open_usable(dir);
    for (int i = 0; i < 10; ++i) REQUIRE(store->put_partition("sales", day(i), built(i)).ok());
  }
  std::string key = state_codec::partition_key("sales", day(4));
  std::string value = state_codec::encode_partition(key, built(4));
  value[20] ^= 0x40;
  poke(dir, "partitions", key, value);

  Result<StateStore::Opened> opened = StateStore::open(dir, Mode::kReadOnly);
  REQUIRE(opened.ok());
  CHECK(opened->condition == Condition::kCorrupt);
  CHECK(opened->reason ==
        "state store is corrupt: partitions record 'sales@2024-01-05': checksum mismatch");

  StateStoreOptions unchecked;
  unchecked.check_records = false;
  auto store = open_usable(dir, Mode::kReadOnly, unchecked);
  CHECK(store->get_partition("sales", day(3)).ok());
  auto damaged = store->get_partition("sales", day(4));
  CHECK_FALSE(damaged.ok());  // never a guess
  CHECK_FALSE(store->for_each_partition([](auto, auto, const auto&) {}).ok());
}

// Regression: a flipped byte in a database's name once made open() create a new, empty
// "stat_cache" beside the renamed one, silently losing the cache.
TEST_CASE("state_store: a damaged database name is corruption, not a fresh database") {
  TempDir tmp;
  std::string dir = tmp.sub("state");
  {
    auto store = open_usable(dir);
    WriteBatch batch;
    batch.put_stat("data/x.csv", StatEntry{1, 2, 3, 4, 5, {}});
    REQUIRE(store->commit(batch).ok());
  }
  std::string path = dir + "/data.mdb";
  std::string data;
  {
    std::ifstream in(path, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  int renamed = 0;  // in the live main tree and in stale copies of it in free pages
  for (size_t at = data.find("stat_cache"); at != std::string::npos;
       at = data.find("stat_cache", at + 1), ++renamed) {
    data[at + 8] = 'x';  // "stat_caxhe": still sorted last
  }
  REQUIRE(renamed > 0);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;

  for (Mode mode : {Mode::kReadOnly, Mode::kReadWrite}) {
    Result<StateStore::Opened> opened = StateStore::open(dir, mode);
    REQUIRE(opened.ok());
    CHECK(opened->condition == Condition::kCorrupt);
    CHECK(opened->reason == "database 'stat_cache' is missing");
  }
}

TEST_CASE("state_store: prune deletes old runs and their logs") {
  TempDir tmp;
  auto store = open_usable(tmp.sub("state"));
  for (int64_t t : {100, 200, 300}) REQUIRE(store->begin_run("dbuild build", t).ok());
  WriteBatch batch;
  batch.put_log("a", "1", 1, "old log");
  batch.put_log("a", "1", 3, "new log");
  batch.put_log("b", "", 2, "old log");
  batch.record_failure("c", "", Hash128{1, 1}, 1, "still failing");  // its latest failure
  REQUIRE(store->commit(batch).ok());

  Result<PruneCounts> pruned = store->prune(250);
  REQUIRE(pruned.ok());
  CHECK(pruned->runs == 2);
  CHECK(pruned->logs == 2);
  auto txn = store->read();
  CHECK_FALSE(txn->run(1)->has_value());
  CHECK_FALSE(txn->run(2)->has_value());
  CHECK(txn->run(3)->has_value());
  CHECK_FALSE(txn->log("a", "1", 1)->has_value());
  CHECK(txn->log("a", "1", 3)->has_value());
  CHECK_FALSE(txn->log("b", "", 2)->has_value());
  CHECK(txn->log("c", "", 1)->value() == "still failing");
  txn = ReadTxn();
  Result<uint64_t> next = store->begin_run("dbuild build", 400);
  REQUIRE(next.ok());
  CHECK(*next == 4);  // ids are never reused
}

}  // namespace
}  // namespace dbuild
