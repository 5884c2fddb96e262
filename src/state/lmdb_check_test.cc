#include "state/lmdb_check.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <doctest/doctest.h>

#include "test_util.h"
#include <fmt/format.h>

#include "state/state_store.h"

namespace dbuild {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

LmdbFileState state_of(const std::string& path) {
  Result<LmdbFileCheck> check = check_lmdb_file(path);
  REQUIRE(check.ok());
  if (check->state == LmdbFileState::kCorrupt) MESSAGE(check->problem);
  return check->state;
}

TEST_CASE("lmdb_check: absent, empty and foreign files") {
  TempDir tmp;
  CHECK(state_of(tmp.sub("nothing.mdb")) == LmdbFileState::kAbsent);
  std::ofstream(tmp.sub("empty.mdb")).flush();
  CHECK(state_of(tmp.sub("empty.mdb")) == LmdbFileState::kAbsent);
  std::ofstream(tmp.sub("text.mdb")) << std::string(10'000, 'x');
  Result<LmdbFileCheck> check = check_lmdb_file(tmp.sub("text.mdb"));
  REQUIRE(check.ok());
  CHECK(check->state == LmdbFileState::kCorrupt);
  CHECK(check->problem == "meta page 0 has a bad magic number");
}

PartitionRecord record(uint64_t i) {
  PartitionRecord r;
  r.key = {i, ~i};
  r.fingerprint = {i * 31, i * 17};
  r.run_id = 1 + i % 5;
  return r;
}

/// One random commit: new and rewritten partitions, deletions, logs of every size (rewritten in
/// place with other sizes, to exercise LMDB's overflow page reuse), stats, clears and prunes.
Status random_commit(StateStore& store, std::mt19937& rng, int round) {
  WriteBatch batch;
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  for (int i = 0, n = pick(300); i < n; ++i) {
    batch.put_partition(fmt::format("ds{}", pick(8)), fmt::format("{:05}", pick(3000)),
                        record(rng()));
  }
  for (int i = 0, n = pick(100); i < n; ++i) {
    batch.delete_partition(fmt::format("ds{}", pick(8)), fmt::format("{:05}", pick(3000)));
  }
  for (int i = 0, n = pick(6); i < n; ++i) {
    size_t size = std::vector<size_t>{10, 2000, 4000, 9000, 30'000, 70'000}[pick(6)];
    batch.put_log(fmt::format("ds{}", pick(3)), "", pick(20), std::string(size, 'l'));
  }
  for (int i = 0, n = pick(40); i < n; ++i) {
    batch.put_stat(fmt::format("data/{}.csv", pick(500)), StatEntry{1, rng(), 3, 4, 5, {}});
  }
  if (pick(15) == 0) batch.delete_dataset(fmt::format("ds{}", pick(8)));
  Status s = store.commit(batch);
  if (s.ok() && pick(10) == 0) s = store.begin_run("dbuild build", round).status();
  if (s.ok() && pick(25) == 0) s = store.prune(round - 5).status();
  return s;
}

TEST_CASE("lmdb_check: files written by LMDB always pass") {
  TempDir tmp;
  std::string dir = tmp.sub("state");
  std::mt19937 rng(20261130);
  StateStoreOptions options;
  options.initial_map_bytes = 1 << 20;  // grow along the way
  int checked = 0;
  for (int session = 0; session < 3; ++session) {
    Result<StateStore::Opened> opened =
        StateStore::open(dir, StateStore::OpenMode::kReadWrite, options);
    REQUIRE(opened.ok());
    REQUIRE_MESSAGE(opened->condition == StateStore::Condition::kUsable, opened->reason);
    for (int round = 0; round < 40; ++round) {
      REQUIRE(random_commit(*opened->store, rng, session * 100 + round).ok());
      REQUIRE(state_of(dir + "/data.mdb") == LmdbFileState::kSound);
      ++checked;
    }
  }
  CHECK(checked == 120);
  CHECK(fs::file_size(dir + "/data.mdb") > (size_t{1} << 20));
}

}  // namespace
}  // namespace dbuild
