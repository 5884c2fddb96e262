// StateStore reads: ReadTxn, and the store's one-snapshot conveniences.
#include <lmdb.h>

#include <utility>

#include <fmt/format.h>

#include "state/lmdb_util.h"
#include "state/state_codec.h"
#include "state/state_store.h"

namespace dbuild {
namespace {

namespace codec = state_codec;

Status empty_txn() { return Status::Error("state store: read from an empty ReadTxn"); }

/// Checks one record of a named database: its key's shape and its value's encoding.
Status check_record(std::string_view db, std::string_view key, std::string_view value) {
  std::string_view dataset, partition;
  uint64_t run_id = 0;
  PartitionRecord partition_record;
  RunRecord run_record;
  StatEntry stat_entry;
  std::string text;
  uint64_t number = 0;
  Status bad_key = Status::Error("malformed key");
  if (db == "partitions") {
    if (!codec::split_partition_key(key, &dataset, &partition)) return bad_key;
    return codec::decode_partition(key, value, &partition_record);
  }
  if (db == "runs") return codec::decode_run(key, value, &run_record);
  if (db == "logs") {
    if (!codec::split_log_key(key, &dataset, &partition, &run_id)) return bad_key;
    return codec::decode_log(key, value, &text);
  }
  if (db == "stat_cache") {
    if (key.empty()) return bad_key;
    return codec::decode_stat(key, value, &stat_entry);
  }
  if (key == "version") return Status::Ok();  // checked by open_databases()
  if (key == "next_run_id") return codec::decode_u64(key, value, &number);
  if (key.starts_with(std::string_view("groups\0", 7)) && key.size() > 7) {
    std::vector<GroupRecord> groups;
    return codec::decode_groups(key, value, &groups);
  }
  return Status::Error("unknown key");
}

}  // namespace

// ---- ReadTxn ----

ReadTxn::~ReadTxn() { release(); }

ReadTxn::ReadTxn(ReadTxn&& other) noexcept
    : store_(other.store_), txn_(std::exchange(other.txn_, nullptr)), holder_(other.holder_) {}

ReadTxn& ReadTxn::operator=(ReadTxn&& other) noexcept {
  if (this != &other) {
    release();
    store_ = other.store_;
    txn_ = std::exchange(other.txn_, nullptr);
    holder_ = other.holder_;
  }
  return *this;
}

void ReadTxn::release() {
  if (txn_ == nullptr) return;
  mdb_txn_abort(txn_);
  txn_ = nullptr;
  store_->gate_->leave(holder_);
}

Result<std::vector<GroupRecord>> ReadTxn::groups(std::string_view dataset) const {
  if (txn_ == nullptr) return empty_txn();
  if (!codec::check_names(dataset, "").ok()) return std::vector<GroupRecord>();
  std::string key = codec::groups_key(dataset);
  MDB_val k = lmdb::val(key);
  MDB_val v;
  int rc = mdb_get(txn_, store_->dbis_->meta, &k, &v);
  if (rc == MDB_NOTFOUND) return std::vector<GroupRecord>();
  if (rc != 0) return lmdb::error(rc, "read groups");
  std::vector<GroupRecord> groups;
  Status s = codec::decode_groups(key, lmdb::view(v), &groups);
  if (!s.ok()) return lmdb::corrupt("meta", key, s);
  return groups;
}

Result<std::optional<PartitionRecord>> ReadTxn::partition(std::string_view dataset,
                                                          std::string_view partition) const {
  if (txn_ == nullptr) return empty_txn();
  if (!codec::check_names(dataset, partition).ok()) return std::optional<PartitionRecord>();
  std::string key = codec::partition_key(dataset, partition);
  MDB_val k = lmdb::val(key);
  MDB_val v;
  int rc = mdb_get(txn_, store_->dbis_->partitions, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<PartitionRecord>();
  if (rc != 0) return lmdb::error(rc, "read partition");
  PartitionRecord record;
  Status s = codec::decode_partition(key, lmdb::view(v), &record);
  if (!s.ok()) return lmdb::corrupt("partitions", key, s);
  return std::optional<PartitionRecord>(record);
}

Status ReadTxn::for_each_partition(const PartitionFn& fn) const { return scan_partitions("", fn); }

Status ReadTxn::for_each_partition_of(std::string_view dataset, const PartitionFn& fn) const {
  if (!codec::check_names(dataset, "").ok()) return Status::Ok();
  return scan_partitions(codec::dataset_prefix(dataset), fn);
}

Status ReadTxn::for_each_partition_of(std::string_view dataset, const PartitionFn& fn,
                                     std::vector<std::string>* damaged) const {
  if (!codec::check_names(dataset, "").ok()) return Status::Ok();
  return scan_partitions(codec::dataset_prefix(dataset), fn, damaged);
}

Status ReadTxn::scan_partitions(std::string_view prefix, const PartitionFn& fn,
                                std::vector<std::string>* damaged) const {
  if (txn_ == nullptr) return empty_txn();
  Status bad;
  PartitionRecord record;
  auto visit = [&](std::string_view key, std::string_view value) {
    std::string_view dataset, partition;
    if (!codec::split_partition_key(key, &dataset, &partition)) {
      bad = lmdb::corrupt("partitions", key, Status::Error("malformed key"));
    } else if (Status s = codec::decode_partition(key, value, &record); !s.ok()) {
      if (damaged) damaged->emplace_back(partition);
      else bad = lmdb::corrupt("partitions", key, s);
    } else {
      fn(dataset, partition, record);
    }
    return bad.ok();
  };
  int rc = 0;
  Status s = lmdb::scan(txn_, store_->dbis_->partitions, prefix, prefix, visit, &rc);
  return s.ok() ? bad : s;
}

Result<std::optional<std::string>> ReadTxn::log(std::string_view dataset,
                                                std::string_view partition,
                                                uint64_t run_id) const {
  if (txn_ == nullptr) return empty_txn();
  if (!codec::check_names(dataset, partition).ok()) return std::optional<std::string>();
  std::string key = codec::log_key(dataset, partition, run_id);
  MDB_val k = lmdb::val(key);
  MDB_val v;
  int rc = mdb_get(txn_, store_->dbis_->logs, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string>();
  if (rc != 0) return lmdb::error(rc, "read log");
  std::string text;
  Status s = codec::decode_log(key, lmdb::view(v), &text);
  if (!s.ok()) return lmdb::corrupt("logs", key, s);
  return std::optional<std::string>(std::move(text));
}

Result<std::optional<LogEntry>> ReadTxn::latest_log(std::string_view dataset,
                                                    std::string_view partition) const {
  if (txn_ == nullptr) return empty_txn();
  if (!codec::check_names(dataset, partition).ok()) return std::optional<LogEntry>();
  std::string prefix = codec::log_prefix(dataset, partition);
  std::string last = prefix + std::string(8, '\xff');  // the greatest possible key
  lmdb::Cursor cursor;
  int rc = cursor.open(txn_, store_->dbis_->logs);
  MDB_val k = lmdb::val(last);
  MDB_val v;
  if (rc == 0) rc = cursor.get(&k, &v, MDB_SET_RANGE);
  if (rc == MDB_NOTFOUND) rc = cursor.get(&k, &v, MDB_LAST);
  else if (rc == 0 && lmdb::view(k) != last) rc = cursor.get(&k, &v, MDB_PREV);
  if (rc == MDB_NOTFOUND || (rc == 0 && !lmdb::view(k).starts_with(prefix))) {
    return std::optional<LogEntry>();
  }
  if (rc != 0) return lmdb::error(rc, "read log");
  std::string_view key = lmdb::view(k), ds, part;
  LogEntry entry;
  Status s = codec::split_log_key(key, &ds, &part, &entry.run_id)
                 ? codec::decode_log(key, lmdb::view(v), &entry.text)
                 : Status::Error("malformed key");
  if (!s.ok()) return lmdb::corrupt("logs", key, s);
  return std::optional<LogEntry>(std::move(entry));
}

Result<std::optional<RunRecord>> ReadTxn::run(uint64_t run_id) const {
  if (txn_ == nullptr) return empty_txn();
  std::string key = codec::run_key(run_id);
  MDB_val k = lmdb::val(key);
  MDB_val v;
  int rc = mdb_get(txn_, store_->dbis_->runs, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<RunRecord>();
  if (rc != 0) return lmdb::error(rc, "read run");
  RunRecord record;
  Status s = codec::decode_run(key, lmdb::view(v), &record);
  if (!s.ok()) return lmdb::corrupt("runs", key, s);
  return std::optional<RunRecord>(std::move(record));
}

Result<std::vector<RunRecord>> ReadTxn::runs(size_t limit) const {
  if (txn_ == nullptr) return empty_txn();
  std::vector<RunRecord> out;
  lmdb::Cursor cursor;
  int rc = cursor.open(txn_, store_->dbis_->runs);
  MDB_val k, v;
  if (rc == 0 && limit > 0) rc = cursor.get(&k, &v, MDB_LAST);
  while (rc == 0 && out.size() < limit) {
    RunRecord record;
    Status s = codec::decode_run(lmdb::view(k), lmdb::view(v), &record);
    if (!s.ok()) return lmdb::corrupt("runs", lmdb::view(k), s);
    out.push_back(std::move(record));
    rc = cursor.get(&k, &v, MDB_PREV);
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return lmdb::error(rc, "read runs");
  return out;
}

Result<std::optional<StatEntry>> ReadTxn::stat(std::string_view path) const {
  if (txn_ == nullptr) return empty_txn();
  if (path.empty() || path.size() > codec::kMaxKeyBytes) return std::optional<StatEntry>();
  MDB_val k = lmdb::val(path);
  MDB_val v;
  int rc = mdb_get(txn_, store_->dbis_->stat_cache, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<StatEntry>();
  if (rc != 0) return lmdb::error(rc, "read stat cache");
  StatEntry entry;
  Status s = codec::decode_stat(path, lmdb::view(v), &entry);
  if (!s.ok()) return lmdb::corrupt("stat_cache", path, s);
  return std::optional<StatEntry>(entry);
}

Status ReadTxn::check_all(std::string* problem) const {
  if (txn_ == nullptr) return empty_txn();
  const lmdb::Dbis& dbis = *store_->dbis_;
  const std::pair<const char*, MDB_dbi> dbs[] = {{"meta", dbis.meta},
                                                 {"partitions", dbis.partitions},
                                                 {"runs", dbis.runs},
                                                 {"logs", dbis.logs},
                                                 {"stat_cache", dbis.stat_cache}};
  for (const auto& [name, dbi] : dbs) {
    auto visit = [&, name = name](std::string_view key, std::string_view value) {
      Status s = check_record(name, key, value);
      if (!s.ok()) *problem = lmdb::corrupt(name, key, s).message();
      return s.ok();
    };
    int rc = 0;
    Status s = lmdb::scan(txn_, dbi, "", "", visit, &rc);
    if (!s.ok() && !lmdb::is_corruption(rc)) return s;
    if (!s.ok()) *problem = s.message();
    if (!problem->empty()) return Status::Ok();
  }
  return Status::Ok();
}

// ---- StateStore reads ----

Result<ReadTxn> StateStore::read() const {
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::thread::id self = std::this_thread::get_id();
    gate_->enter(self);
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    if (rc == 0) return ReadTxn(this, txn, self);
    gate_->leave(self);
    if (rc != MDB_MAP_RESIZED) return lmdb::error(rc, "begin read");
    std::lock_guard lock(write_mutex_);  // another process grew the map: adopt its size
    Status s = resize_map(0);
    if (!s.ok()) return s;
  }
  return Status::Error("state store: the map keeps being resized");
}

Result<std::optional<PartitionRecord>> StateStore::get_partition(
    std::string_view dataset, std::string_view partition) const {
  Result<ReadTxn> txn = read();
  if (!txn.ok()) return txn.status();
  return txn->partition(dataset, partition);
}

Status StateStore::for_each_partition(const PartitionFn& fn) const {
  Result<ReadTxn> txn = read();
  if (!txn.ok()) return txn.status();
  return txn->for_each_partition(fn);
}

}  // namespace dbuild
