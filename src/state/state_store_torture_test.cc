// Torture the store, as storage engines test their logs: a written state, truncated at many
// lengths and with bytes flipped all over its data file, must open as an error or as a store
// that holds exactly what was written; never crash (this binary runs under ASan/UBSan). After
// a reset the store works.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include <doctest/doctest.h>

#include "test_util.h"
#include <fmt/format.h>

#include "state/state_store.h"

namespace dbuild {
namespace {

namespace fs = std::filesystem;
using Mode = StateStore::OpenMode;
using Condition = StateStore::Condition;

using testing::TempDir;

/// The written state: its data file and the partitions a usable store must hold.
struct Pristine {
  std::string data;
  std::map<std::string, PartitionRecord> partitions;  // "dataset@partition"
  size_t runs = 0;
};

/// How hard to torture: DBUILD_TORTURE_SCALE (default 1, the quick run of the test suite;
/// e.g. 20 tries about 5,000 damaged files).
int torture_scale() {
  const char* env = std::getenv("DBUILD_TORTURE_SCALE");
  int scale = env != nullptr ? std::atoi(env) : 1;
  return scale > 0 ? scale : 1;
}

StateStoreOptions small_map() {
  StateStoreOptions options;
  options.initial_map_bytes = 1 << 20;
  return options;
}

PartitionRecord record(uint64_t i) {
  PartitionRecord r;
  r.key = {i * 0x9E3779B97F4A7C15ull, i};
  r.fingerprint = {i + 1, i * 5};
  r.started_unix_ms = static_cast<int64_t>(i);
  r.row_count = static_cast<int64_t>(i % 7) - 1;
  r.run_id = 1;
  return r;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

void write_file(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

/// Writes partitions, failures, logs (some on overflow pages), stats and runs, with deletions
/// so that the free-page tree is not empty. The last two commits write the same stat entry, so
/// both of LMDB's snapshots (one per meta page) hold the same records.
void write_pristine(StateStore& store, Pristine* p) {
  for (int b = 0; b < 3; ++b) {
    WriteBatch batch;
    for (int i = 0; i < 150; ++i) {
      std::string ds = fmt::format("ds{}", (b * 150 + i) % 4);
      std::string part = fmt::format("2024-{:03}", b * 150 + i);
      batch.put_partition(ds, part, record(b * 150 + i));
      p->partitions[ds + "@" + part] = record(b * 150 + i);
    }
    for (int i = 0; i < 3; ++i) batch.put_log("ds0", "", b * 3 + i, std::string(1000 * b + 20, 'x'));
    batch.put_log("big", "", b, std::string(100'000 + b, 'B'));
    for (int i = 0; i < 20; ++i) batch.put_stat(fmt::format("data/{}.csv", i), StatEntry{1, 2, 3, 4, 5, {}});
    REQUIRE(store.commit(batch).ok());
    REQUIRE(store.begin_run("dbuild build", 100 * b).ok());
    ++p->runs;
  }
  for (int i = 0; i < 10; ++i) {
    std::string part = fmt::format("2024-{:03}", i * 4 + 1);
    REQUIRE(store.record_failure("ds1", part, Hash128{7, 7}, 2, "boom").ok());
    PartitionRecord& r = p->partitions["ds1@" + part];
    r.status = PartitionStatus::kFailed;
    r.failed_key = Hash128{7, 7};
    r.failed_run_id = 2;
  }
  WriteBatch clear;
  clear.delete_dataset("ds3");
  for (int i = 0; i < 30; ++i) clear.delete_partition("ds2", fmt::format("2024-{:03}", i * 4 + 2));
  REQUIRE(store.commit(clear).ok());
  std::erase_if(p->partitions, [](const auto& kv) {
    return kv.first.starts_with("ds3@") ||
           (kv.first.starts_with("ds2@") && std::stoi(kv.first.substr(9)) < 120);
  });
  REQUIRE(store.prune(50).ok());
  --p->runs;
  for (int i = 0; i < 2; ++i) {
    WriteBatch last;
    last.put_stat("last", StatEntry{9, 9, 9, 9, 9, {}});
    REQUIRE(store.commit(last).ok());
  }
}

Pristine make_pristine(const TempDir& tmp) {
  Pristine p;
  std::string dir = tmp.sub("pristine");
  {
    Result<StateStore::Opened> opened = StateStore::open(dir, Mode::kReadWrite, small_map());
    REQUIRE(opened.ok());
    REQUIRE(opened->store != nullptr);
    write_pristine(*opened->store, &p);
  }
  p.data = read_file(dir + "/data.mdb");
  return p;
}

/// A usable store must hold exactly the pristine records, and (when `write`) take a write.
void check_usable(StateStore& store, const Pristine& p, const std::string& label, bool write) {
  std::map<std::string, PartitionRecord> found;
  Status s = store.for_each_partition([&](std::string_view d, std::string_view part,
                                          const PartitionRecord& r) {
    found[fmt::format("{}@{}", d, part)] = r;
  });
  REQUIRE_MESSAGE(s.ok(), label, ": ", s.message());
  REQUIRE_MESSAGE(found == p.partitions, label);
  {
    Result<ReadTxn> txn = store.read();
    REQUIRE(txn.ok());
    bool empty = p.partitions.empty();
    auto it = p.partitions.find("ds1@2024-005");
    CHECK_MESSAGE(txn->partition("ds1", "2024-005")->has_value() == !empty, label);
    if (!empty) CHECK_MESSAGE(txn->partition("ds1", "2024-005")->value() == it->second, label);
    CHECK_MESSAGE(txn->runs(100)->size() == p.runs, label);
    CHECK_MESSAGE(txn->latest_log("big", "")->has_value() == !empty, label);
    CHECK_MESSAGE(txn->stat("last")->has_value() == !empty, label);
  }
  if (!write) return;
  REQUIRE_MESSAGE(store.put_partition("after", "x", record(1)).ok(), label);
  CHECK_MESSAGE(store.get_partition("after", "x")->value() == record(1), label);
}

/// After a reset, a fresh store works.
void check_reset(const std::string& dir, const std::string& label) {
  Result<std::string> moved = StateStore::reset(dir);
  REQUIRE_MESSAGE(moved.ok(), label);
  auto store = StateStore::open(dir, Mode::kReadWrite, small_map());
  REQUIRE_MESSAGE(store.ok(), label);
  REQUIRE_MESSAGE(store->condition == Condition::kUsable, label, ": ", store->reason);
  size_t n = 0;
  REQUIRE(store->store->for_each_partition([&](auto, auto, const auto&) { ++n; }).ok());
  CHECK(n == 0);
  REQUIRE(store->store->put_partition("fresh", "", record(2)).ok());
}

/// Tallies of what the damaged files opened as.
struct Tally {
  int usable = 0;
  int unusable = 0;
  int errors = 0;
};

/// Installs `data` as a state's data file, opens it, and checks that the outcome is a faithful
/// store or a clean refusal, after which reset() gives a working store. `deep` cases also open
/// read-only first, write to a usable store and reset it too (each write costs an fsync).
void run_case(const TempDir& tmp, const Pristine& p, std::string_view data,
              const std::string& label, bool deep, Tally* tally) {
  std::string root = tmp.sub("case");
  std::string dir = root + "/state";
  fs::create_directories(dir);
  write_file(dir + "/data.mdb", data);
  if (deep) {
    Result<StateStore::Opened> ro = StateStore::open(dir, Mode::kReadOnly, small_map());
    if (ro.ok() && ro->store) {
      std::map<std::string, PartitionRecord> found;
      Status s = ro->store->for_each_partition([&](auto d, auto part, const auto& r) {
        found[fmt::format("{}@{}", d, part)] = r;
      });
      CHECK_MESSAGE((s.ok() && found == p.partitions), label);
    }
  }
  Result<StateStore::Opened> opened = StateStore::open(dir, Mode::kReadWrite, small_map());
  if (!opened.ok()) {
    ++tally->errors;
    MESSAGE(label, ": ", opened.status().message());
  } else if (opened->store) {
    ++tally->usable;
    check_usable(*opened->store, p, label, deep);
  } else {
    ++tally->unusable;
    CHECK(opened->condition != Condition::kMissing);
  }
  bool usable = opened.ok() && opened->store != nullptr;
  if (opened.ok()) opened->store.reset();
  if (!usable || deep) check_reset(dir, label);
  std::error_code ec;
  fs::remove_all(root, ec);
}

TEST_CASE("state_store torture: truncated data files") {
  TempDir tmp;
  Pristine p = make_pristine(tmp);
  const size_t page = 4096;
  std::vector<size_t> lengths = {0, 1, 15, 100, 151, 152, 4095, 4097, p.data.size() - 1};
  for (size_t len = page; len < p.data.size(); len += page) {
    lengths.push_back(len);
    if (torture_scale() > 1 || len % (8 * page) == 0) lengths.push_back(len + page / 2);
  }
  Tally tally;
  Pristine nothing;  // an empty data file is a fresh state (LMDB writes its meta pages first)
  nothing.runs = 0;
  for (size_t len : lengths) {
    if (len > p.data.size()) continue;
    run_case(tmp, len == 0 ? nothing : p, std::string_view(p.data).substr(0, len),
             fmt::format("truncated to {}", len), len % (4 * page) == 0, &tally);
  }
  MESSAGE(fmt::format("{} truncations of a {}-byte file: {} usable, {} refused, {} errors",
                      lengths.size(), p.data.size(), tally.usable, tally.unusable, tally.errors));
  CHECK(tally.errors == 0);
  CHECK(tally.usable >= 1);  // cutting unused pages at the end is harmless
}

TEST_CASE("state_store torture: flipped bytes") {
  TempDir tmp;
  Pristine p = make_pristine(tmp);
  const size_t page = 4096;
  std::mt19937_64 rng(0xDB01D);
  Tally tally;
  int cases = 0;
  auto flip_case = [&](std::vector<size_t> offsets, const std::string& what) {
    std::string data = p.data;
    std::string label = what;
    for (size_t off : offsets) {
      auto mask = static_cast<char>(1 + rng() % 255);
      data[off] ^= mask;
      label += fmt::format(" {}^{:#04x}", off, static_cast<uint8_t>(mask));
    }
    run_case(tmp, p, data, label, ++cases % 5 == 0, &tally);
  };
  // Every other byte of both meta pages' headers and metas (every byte when scale > 1).
  int scale = torture_scale();
  for (size_t meta : {size_t{0}, page}) {
    for (size_t off = meta; off < meta + 16 + 136; off += scale > 1 ? 1 : 2) {
      flip_case({off}, "meta byte");
    }
  }
  // A header byte or a body byte of every page (both when scale > 1).
  for (size_t base = 2 * page, i = 0; base < p.data.size(); base += page, ++i) {
    if (scale > 1 || i % 2 == 0) flip_case({base + rng() % 16}, "page header");
    if (scale > 1 || i % 2 == 1) flip_case({base + 16 + rng() % (page - 16)}, "page body");
  }
  // Anywhere, one byte or several.
  for (int i = 0; i < 100 * scale; ++i) flip_case({rng() % p.data.size()}, "random byte");
  for (int i = 0; i < 20 * scale; ++i) {
    std::vector<size_t> offsets;
    for (int k = 0; k < 8; ++k) offsets.push_back(rng() % p.data.size());
    flip_case(offsets, "8 random bytes");
  }
  MESSAGE(fmt::format("{} damaged copies of a {}-byte file: {} usable (identical content), "
                      "{} refused, {} errors",
                      cases, p.data.size(), tally.usable, tally.unusable, tally.errors));
  CHECK(tally.errors == 0);
}

}  // namespace
}  // namespace dbuild
