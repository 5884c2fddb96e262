// StateStore writes: WriteBatch, the write loop that grows the map, runs and pruning.
#include <lmdb.h>

#include <algorithm>

#include <fmt/format.h>

#include "state/lmdb_util.h"
#include "state/state_codec.h"
#include "state/state_store.h"

namespace dbuild {
namespace {

namespace codec = state_codec;

constexpr int kMaxResizes = 24;         // 64 MiB doubled 24 times: far beyond any disk
constexpr size_t kPruneChunk = 10'000;  // records examined per prune transaction
constexpr std::string_view kNextRunId = "next_run_id";

Status delete_keys(lmdb::WriteTxn& w, MDB_dbi dbi, const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    if (Status s = w.del(dbi, key); !s.ok()) return s;
  }
  return Status::Ok();
}

/// Deletes every record of `dbi` whose key starts with `prefix`.
Status delete_prefix(lmdb::WriteTxn& w, MDB_dbi dbi, std::string_view prefix) {
  std::vector<std::string> keys;
  auto collect = [&](std::string_view key, std::string_view) {
    keys.emplace_back(key);
    return true;
  };
  int rc = 0;
  Status s = lmdb::scan(w.txn(), dbi, prefix, prefix, collect, &rc);
  if (!s.ok()) return w.fail(rc, "scan");
  return delete_keys(w, dbi, keys);
}

/// Sets *keep if the log under `key` must survive a prune up to last_run: it is newer, or it
/// is the log of its partition's current failure.
Status keep_log(lmdb::WriteTxn& w, std::string_view key, uint64_t last_run, bool* keep) {
  std::string_view dataset, partition;
  uint64_t run_id = 0;
  if (!codec::split_log_key(key, &dataset, &partition, &run_id)) {
    return lmdb::corrupt("logs", key, Status::Error("malformed key"));
  }
  *keep = run_id > last_run;
  if (*keep) return Status::Ok();
  std::string pkey = codec::partition_key(dataset, partition);
  Result<std::optional<std::string_view>> value = w.get(w.dbis().partitions, pkey);
  if (!value.ok()) return value.status();
  PartitionRecord record;
  *keep = value->has_value() && codec::decode_partition(pkey, **value, &record).ok() &&
          record.status == PartitionStatus::kFailed && record.failed_run_id == run_id;
  return Status::Ok();
}

/// The next run id: the stored counter, but never at or below an existing run.
Result<uint64_t> next_run_id(lmdb::WriteTxn& w) {
  uint64_t next = 1;
  Result<std::optional<std::string_view>> stored = w.get(w.dbis().meta, kNextRunId);
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) {
    Status s = codec::decode_u64(kNextRunId, **stored, &next);
    if (!s.ok()) return lmdb::corrupt("meta", kNextRunId, s);
  }
  lmdb::Cursor cursor;
  MDB_val k, v;
  int rc = cursor.open(w.txn(), w.dbis().runs);
  if (rc == 0) rc = cursor.get(&k, &v, MDB_LAST);
  uint64_t last = 0;
  if (rc == 0 && codec::parse_run_key(lmdb::view(k), &last)) next = std::max(next, last + 1);
  if (rc != 0 && rc != MDB_NOTFOUND) return w.fail(rc, "read runs");
  return std::max<uint64_t>(next, 1);
}

}  // namespace

// ---- WriteBatch ----

bool WriteBatch::check(std::string_view dataset, std::string_view partition) {
  if (!status_.ok()) return false;
  status_ = codec::check_names(dataset, partition);
  return status_.ok();
}

void WriteBatch::add(Op::Kind kind, Db db, std::string key, std::string value) {
  Op& op = ops_.emplace_back();
  op.kind = kind;
  op.db = db;
  op.key = std::move(key);
  op.value = std::move(value);
}

void WriteBatch::put_partition(std::string_view dataset, std::string_view partition,
                               const PartitionRecord& record) {
  if (!check(dataset, partition)) return;
  std::string key = codec::partition_key(dataset, partition);
  std::string value = codec::encode_partition(key, record);
  add(Op::Kind::kPut, Db::kPartitions, std::move(key), std::move(value));
}

void WriteBatch::record_failure(std::string_view dataset, std::string_view partition,
                                const Hash128& failed_key, uint64_t run_id, std::string_view log) {
  if (!check(dataset, partition)) return;
  add(Op::Kind::kRecordFailure, Db::kPartitions, codec::partition_key(dataset, partition));
  ops_.back().failed_key = failed_key;
  ops_.back().run_id = run_id;
  put_log(dataset, partition, run_id, log);
}

void WriteBatch::record_start(std::string_view dataset, std::string_view partition,
                              const Hash128& key, uint64_t run_id) {
  if (!check(dataset, partition)) return;
  add(Op::Kind::kRecordStart, Db::kPartitions, codec::partition_key(dataset, partition));
  ops_.back().failed_key = key;
  ops_.back().run_id = run_id;
}

void WriteBatch::delete_partition(std::string_view dataset, std::string_view partition) {
  if (!check(dataset, partition)) return;
  add(Op::Kind::kDelete, Db::kPartitions, codec::partition_key(dataset, partition));
}

void WriteBatch::delete_dataset(std::string_view dataset) {
  if (!check(dataset, "")) return;
  add(Op::Kind::kDeletePrefix, Db::kPartitions, codec::dataset_prefix(dataset));
}

void WriteBatch::put_log(std::string_view dataset, std::string_view partition, uint64_t run_id,
                         std::string_view text) {
  if (!check(dataset, partition)) return;
  std::string key = codec::log_key(dataset, partition, run_id);
  std::string value = codec::encode_log(key, codec::truncate_log(text));
  add(Op::Kind::kPut, Db::kLogs, std::move(key), std::move(value));
}

void WriteBatch::put_stat(std::string_view path, const StatEntry& entry) {
  if (path.empty() || path.size() > codec::kMaxKeyBytes) return;  // not cached
  add(Op::Kind::kPut, Db::kStatCache, std::string(path), codec::encode_stat(path, entry));
}

void WriteBatch::delete_stat(std::string_view path) {
  if (path.empty() || path.size() > codec::kMaxKeyBytes) return;
  add(Op::Kind::kDelete, Db::kStatCache, std::string(path));
}

// ---- The write loop ----

Status StateStore::write(const std::function<Status(lmdb::WriteTxn&)>& apply) {
  if (mode_ != OpenMode::kReadWrite) return Status::Error("state store: opened read-only");
  if (gate_->held_by_this_thread()) {
    return Status::Error("state store: write from a thread that holds a ReadTxn; release it first");
  }
  std::lock_guard lock(write_mutex_);
  for (int resizes = 0;; ++resizes) {
    int rc = 0;
    Status s = write_once(apply, &rc);
    if ((rc != MDB_MAP_FULL && rc != MDB_MAP_RESIZED) || resizes == kMaxResizes) return s;
    s = resize_map(rc == MDB_MAP_FULL ? map_bytes() * 2 : 0);  // 0: adopt another's growth
    if (!s.ok()) return s;
  }
}

/// One attempt: begin, apply, commit. *rc is the LMDB error that ended it (0 if none).
Status StateStore::write_once(const std::function<Status(lmdb::WriteTxn&)>& apply, int* rc) {
  MDB_txn* txn = nullptr;
  *rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (*rc != 0) return lmdb::error(*rc, "begin write");
  lmdb::WriteTxn w(txn, *dbis_);
  Status s = apply(w);
  if (!s.ok()) {
    *rc = w.rc();
    mdb_txn_abort(txn);
    return s;
  }
  *rc = mdb_txn_commit(txn);
  return *rc == 0 ? Status::Ok() : lmdb::error(*rc, "commit");
}

Status StateStore::apply_op(lmdb::WriteTxn& w, const WriteBatch::Op& op) const {
  using Kind = WriteBatch::Op::Kind;
  MDB_dbi dbi = op.db == WriteBatch::Db::kPartitions ? dbis_->partitions
                : op.db == WriteBatch::Db::kLogs     ? dbis_->logs
                                                     : dbis_->stat_cache;
  switch (op.kind) {
    case Kind::kPut:
      return w.put(dbi, op.key, op.value);
    case Kind::kDelete:
      return w.del(dbi, op.key);
    case Kind::kDeletePrefix:
      return delete_prefix(w, dbi, op.key);
    case Kind::kRecordFailure:
    case Kind::kRecordStart:
      break;
  }
  Result<std::optional<std::string_view>> old = w.get(dbi, op.key);
  if (!old.ok()) return old.status();
  if (op.kind == Kind::kRecordStart && !old->has_value()) return Status::Ok();
  PartitionRecord record;  // never built: zero key and fingerprint, unknown row count
  if (old->has_value()) {
    Status s = codec::decode_partition(op.key, **old, &record);
    if (!s.ok()) return lmdb::corrupt("partitions", op.key, s);
  }
  record.status = op.kind == Kind::kRecordStart ? PartitionStatus::kInFlight : PartitionStatus::kFailed;
  record.failed_key = op.failed_key;
  record.failed_run_id = op.run_id;
  return w.put(dbi, op.key, codec::encode_partition(op.key, record));
}

Status StateStore::commit(const WriteBatch& batch) {
  if (!batch.status().ok()) return batch.status();
  if (batch.empty()) return Status::Ok();
  return write([&](lmdb::WriteTxn& w) {
    for (const WriteBatch::Op& op : batch.ops_) {
      if (Status s = apply_op(w, op); !s.ok()) return s;
    }
    return Status::Ok();
  });
}

Status StateStore::put_partition(std::string_view dataset, std::string_view partition,
                                 const PartitionRecord& record) {
  WriteBatch batch;
  batch.put_partition(dataset, partition, record);
  return commit(batch);
}

Status StateStore::put_groups(std::string_view dataset, const std::vector<GroupRecord>& groups) {
  Status names = codec::check_names(dataset, "");
  if (!names.ok()) return names;
  std::string key = codec::groups_key(dataset);
  std::string value = codec::encode_groups(key, groups);
  return write([&](lmdb::WriteTxn& w) { return w.put(dbis_->meta, key, value); });
}

Status StateStore::record_failure(std::string_view dataset, std::string_view partition,
                                  const Hash128& failed_key, uint64_t run_id,
                                  std::string_view log) {
  WriteBatch batch;
  batch.record_failure(dataset, partition, failed_key, run_id, log);
  return commit(batch);
}

Status StateStore::delete_partition(std::string_view dataset, std::string_view partition) {
  WriteBatch batch;
  batch.delete_partition(dataset, partition);
  return commit(batch);
}

// ---- Runs ----

Result<uint64_t> StateStore::begin_run(std::string_view command_line, int64_t started_unix_ms) {
  uint64_t id = 0;
  Status s = write([&](lmdb::WriteTxn& w) {
    Result<uint64_t> next = next_run_id(w);
    if (!next.ok()) return next.status();
    id = *next;
    RunRecord run;
    run.run_id = id;
    run.started_unix_ms = started_unix_ms;
    run.command_line = std::string(command_line);
    std::string key = codec::run_key(id);
    Status put = w.put(dbis_->runs, key, codec::encode_run(key, run));
    if (!put.ok()) return put;
    return w.put(dbis_->meta, kNextRunId, codec::encode_u64(kNextRunId, id + 1));
  });
  if (!s.ok()) return s;
  return id;
}

Status StateStore::finish_run(uint64_t run_id, const RunOutcome& outcome) {
  return write([&](lmdb::WriteTxn& w) {
    std::string key = codec::run_key(run_id);
    Result<std::optional<std::string_view>> old = w.get(dbis_->runs, key);
    if (!old.ok()) return old.status();
    if (!old->has_value()) return Status::Error(fmt::format("state store: no run {}", run_id));
    RunRecord run;
    Status s = codec::decode_run(key, **old, &run);
    if (!s.ok()) return lmdb::corrupt("runs", key, s);
    run.finished_unix_ms = outcome.finished_unix_ms;
    run.counts = outcome.counts;
    run.exit_status = outcome.exit_status;
    return w.put(dbis_->runs, key, codec::encode_run(key, run));
  });
}

// ---- Pruning ----

Result<PruneCounts> StateStore::prune(int64_t older_than_unix_ms) {
  PruneCounts counts;
  uint64_t last_run = 0;
  Status s = prune_runs(older_than_unix_ms, &last_run, &counts.runs);
  if (s.ok() && last_run != 0) s = prune_logs(last_run, &counts.logs);
  if (!s.ok()) return s;
  return counts;
}

/// Deletes runs started before the cutoff, oldest first; *last_run: the newest deleted.
Status StateStore::prune_runs(int64_t older_than_unix_ms, uint64_t* last_run, uint64_t* count) {
  for (;;) {
    std::vector<std::string> doomed;
    Status s = write([&](lmdb::WriteTxn& w) {
      doomed.clear();
      Status bad;
      auto visit = [&](std::string_view key, std::string_view value) {
        RunRecord run;
        bad = codec::decode_run(key, value, &run);
        if (!bad.ok()) bad = lmdb::corrupt("runs", key, bad);
        if (!bad.ok() || run.started_unix_ms >= older_than_unix_ms) return false;
        doomed.emplace_back(key);
        return doomed.size() < kPruneChunk;
      };
      int rc = 0;
      Status scanned = lmdb::scan(w.txn(), dbis_->runs, "", "", visit, &rc);
      if (!scanned.ok()) return w.fail(rc, "scan runs");
      return bad.ok() ? delete_keys(w, dbis_->runs, doomed) : bad;
    });
    if (!s.ok()) return s;
    *count += doomed.size();
    if (!doomed.empty()) codec::parse_run_key(doomed.back(), last_run);
    if (doomed.size() < kPruneChunk) return Status::Ok();
  }
}

/// Deletes logs of runs up to last_run, except a partition's latest failure's log.
Status StateStore::prune_logs(uint64_t last_run, uint64_t* count) {
  std::string from;  // resume point: the first key not yet examined
  for (;;) {
    std::vector<std::string> doomed;
    std::string next;
    Status s = write([&](lmdb::WriteTxn& w) {
      doomed.clear();
      next.clear();
      Status bad;
      size_t examined = 0;
      auto visit = [&](std::string_view key, std::string_view) {
        if (++examined > kPruneChunk) {
          next = std::string(key);
          return false;
        }
        bool keep = false;
        bad = keep_log(w, key, last_run, &keep);
        if (bad.ok() && !keep) doomed.emplace_back(key);
        return bad.ok();
      };
      int rc = 0;
      Status scanned = lmdb::scan(w.txn(), dbis_->logs, from, "", visit, &rc);
      if (!scanned.ok()) return w.fail(rc, "scan logs");
      return bad.ok() ? delete_keys(w, dbis_->logs, doomed) : bad;
    });
    if (!s.ok()) return s;
    *count += doomed.size();
    if (next.empty()) return Status::Ok();
    from = std::move(next);
  }
}

}  // namespace dbuild
