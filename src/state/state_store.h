#pragma once
/// StateStore: what dbuild remembers between runs (docs/architecture.md, Invariants): the key and fingerprint each
/// partition was built with, failures, runs, action logs, and a stat cache for source files.
/// Read this comment first; it is the on-disk format's documentation.
///
/// FILES: one LMDB environment in a directory, normally <workspace>/.dbuild/state/, holding
/// LMDB's data.mdb and lock.mdb. Deleting the directory is always safe (invariant 5).
///
/// NAMED DATABASES. Integers are little-endian and fixed-width unless marked BE (big-endian);
/// hashes are 16 bytes (Hash128.lo, then .hi); str = u32 byte length + bytes. Every value but
/// meta "version" ends with a u64 checksum: XXH3-64 of the value's other bytes, seeded with
/// XXH3-64 of the key, so a damaged value, or a value under a damaged key, never decodes.
///
///   meta        "version"      -> u32 format version, 4 bytes, no checksum (readable forever).
///                                 The current version is state_codec::kFormatVersion (3);
///                                 versions 1 (no status 3) and 2 (no "groups" keys) are
///                                 upgraded in place.
///               "next_run_id"  -> u64 next run id (starts at 1), checksum.      16 bytes
///               "groups" '\0' dataset -> the groups of a grouped table, in order: u32 count,
///                                 then per group: id str, closed u8 (0 open, 1 closed),
///                                 opened_unix_ms i64, u32 member count, member partition
///                                 texts str each; checksum. (Since version 3.)
///   partitions  dataset '\0' partition      (partition: the text after '@'; empty if the
///                                            dataset is unpartitioned)
///               -> off  0  key              hash   action key of the last success; 0: none
///                  off 16  fingerprint      hash   content hash of that output
///                  off 32  status           u8     1 built ok, 2 failed, 3 in flight
///                  off 33  started_unix_ms  i64    of the last success
///                  off 41  finished_unix_ms i64
///                  off 49  duration_ms      u64
///                  off 57  row_count        i64    -1: unknown
///                  off 65  run_id           u64    run of the last success; 0: none
///                  off 73  failed_key       hash   key of the last failed attempt; 0: none
///                  off 89  failed_run_id    u64    run of the last failed attempt; 0: none
///                  off 97  definition       hash   the definition part of `key`
///                  off 113 input_set        hash   the input-set part of `key`
///                  off 129 changed_run_id   u64    run in which fingerprint last changed; 0: ?
///                  off 137 checksum         u64                                 145 bytes
///   runs        run_id u64 BE (cursor order = run order = time order)
///               -> started_unix_ms i64, finished_unix_ms i64 (0: unfinished), ran u64,
///                  up_to_date u64, cut_off u64, failed u64, exit_status i32 (-1: unfinished),
///                  command_line str, checksum                         64 bytes + command line
///   logs        dataset '\0' partition '\0' run_id u64 BE
///               -> text str (at most kMaxLogBytes: head, "... N bytes elided ...", tail),
///                  checksum
///   stat_cache  file path (as given by the caller; paths over 511 bytes are not cached)
///               -> dev u64, ino u64, size u64, mtime_ns i64, ctime_ns i64, content_hash hash,
///                  checksum                                                      64 bytes
///
/// OPENING never crashes and never trusts damaged state. Before LMDB maps data.mdb, lmdb_check
/// verifies its structure (LMDB itself would fault on some damage); then the format version is
/// read; then (Options::check_records) every record is decoded. An unusable state is reported
/// once as Opened::condition + reason; the caller says so and calls reset(), which moves the
/// directory aside (to <dir>.corrupt-<timestamp>, or <dir>.old-<timestamp> for another format
/// version, via open_or_reset()) so the next open starts empty. Every later read decodes with
/// full checks too; a value that fails is an error, never a guess. An empty data.mdb is a fresh
/// state (LMDB writes its meta pages when it creates the file). Cost at 1,000,000 partitions
/// (188 MiB): structure check 0.14 s, record check 0.25 s (skip it with check_records = false;
/// reads still verify every value they decode).
///
/// DURABILITY: every commit is synced (LMDB's default; no MDB_NOSYNC), so a committed record
/// survives a crash, and a crash never leaves a half-written record (copy-on-write pages).
/// Invariant 1 (docs/architecture.md) is the caller's: write a partition's record only after its data is committed.
///
/// CONCURRENCY. One StateStore per directory per process (LMDB's rule; a second open() in the
/// same process fails). Across processes: one writer at a time (LMDB's lock; dbuild also holds
/// the BuildLock), and any number of kReadOnly stores beside it, which see committed snapshots.
/// A kReadOnly store in a directory its user cannot write (lock.mdb not writable) opens with
/// MDB_NOLOCK and creates no file: it must not run beside a writer (none can run as that user).
/// Within a process, StateStore is thread-safe: writes are serialized; ReadTxns are cheap (a
/// brief mutex to open; readers never wait for each other or for writers, only for a map
/// resize) and a thread pool may open one per task. A ReadTxn may move between threads
/// (MDB_NOTLS) but must not be used by two at once. At most 512 ReadTxns live at once (LMDB's
/// reader table, shared by all processes).
///
/// MAP GROWTH: the map starts at Options::initial_map_bytes. When a write finds it full, the
/// store doubles it and retries the write; resizing waits until no ReadTxn is live. Hence:
///   - a thread must release its ReadTxns before it writes (a write from a thread that holds one
///     fails with an error instead of risking a deadlock);
///   - long-lived ReadTxns delay writers that need to grow the map.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"
#include "state/state_records.h"

struct MDB_env;
struct MDB_txn;

namespace dbuild {

struct StateProbe;
namespace lmdb {
struct Dbis;
class ReaderGate;
class WriteTxn;
}  // namespace lmdb

class StateStore;

/// Called once per partition record by the bulk reads. The views are valid only during the call.
using PartitionFn = std::function<void(std::string_view dataset, std::string_view partition,
                                       const PartitionRecord& record)>;

/// A consistent read-only snapshot of the store: one LMDB read transaction. Many gets through
/// one ReadTxn cost no transaction each. Movable, not copyable; a default-constructed ReadTxn
/// holds nothing and must not be read from.
/// REQUIRES: destroyed before its StateStore; not used by two threads at once.
class ReadTxn {
 public:
  ReadTxn() = default;
  ~ReadTxn();
  ReadTxn(ReadTxn&& other) noexcept;
  ReadTxn& operator=(ReadTxn&& other) noexcept;
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;

  /// The record of dataset@partition; nullopt if there is none (or the names are invalid).
  Result<std::optional<PartitionRecord>> partition(std::string_view dataset,
                                                   std::string_view partition) const;
  /// Every partition record, ordered by dataset then partition text.
  Status for_each_partition(const PartitionFn& fn) const;
  /// Every partition record of one dataset, ordered by partition text.
  Status for_each_partition_of(std::string_view dataset, const PartitionFn& fn) const;
  /// The same, but a record that fails to decode (a flipped bit) does not end the scan: its
  /// partition text is appended to *damaged and the scan goes on. Errors are LMDB's only.
  Status for_each_partition_of(std::string_view dataset, const PartitionFn& fn,
                               std::vector<std::string>* damaged) const;

  /// The groups of grouped table `dataset`, in order; empty if none are recorded.
  Result<std::vector<GroupRecord>> groups(std::string_view dataset) const;

  /// The log one run wrote for dataset@partition.
  Result<std::optional<std::string>> log(std::string_view dataset, std::string_view partition,
                                         uint64_t run_id) const;
  /// The log of the most recent run that wrote one for dataset@partition.
  Result<std::optional<LogEntry>> latest_log(std::string_view dataset,
                                             std::string_view partition) const;

  Result<std::optional<RunRecord>> run(uint64_t run_id) const;
  /// Up to `limit` runs, newest first.
  Result<std::vector<RunRecord>> runs(size_t limit) const;

  /// The stat cache entry for `path`; nullopt if none.
  Result<std::optional<StatEntry>> stat(std::string_view path) const;

 private:
  friend class StateStore;
  ReadTxn(const StateStore* store, MDB_txn* txn, std::thread::id holder)
      : store_(store), txn_(txn), holder_(holder) {}
  void release();
  /// Decodes every record; *problem describes the first that fails (empty: none).
  Status check_all(std::string* problem) const;
  Status scan_partitions(std::string_view prefix, const PartitionFn& fn,
                         std::vector<std::string>* damaged = nullptr) const;

  const StateStore* store_ = nullptr;
  MDB_txn* txn_ = nullptr;  // null: holds nothing
  std::thread::id holder_;  // thread that opened it, for the reader gate
};

/// Writes applied together by StateStore::commit(): all of them or none, in one short write
/// transaction. Names are checked as they are added; the first invalid one makes commit() fail
/// without writing anything. Not thread-safe.
class WriteBatch {
 public:
  /// Writes `record` as the partition's record, replacing any previous one.
  void put_partition(std::string_view dataset, std::string_view partition,
                     const PartitionRecord& record);
  /// Records a failed attempt (invariant 2): status = kFailed, failed_key, failed_run_id;
  /// key, fingerprint and timing of the previous success stay as they were. Also stores `log`
  /// (truncated to kMaxLogBytes) as the partition's log for run_id.
  void record_failure(std::string_view dataset, std::string_view partition,
                      const Hash128& failed_key, uint64_t run_id, std::string_view log);
  /// Records that an attempt with `key` starts (status = kInFlight, failed_key, failed_run_id),
  /// keeping key, fingerprint and timing of the previous success. Commit it before the
  /// attempt's data can commit. Nothing is written for a partition without a record: with no
  /// record, the partition is never taken as up to date anyway.
  void record_start(std::string_view dataset, std::string_view partition, const Hash128& key,
                    uint64_t run_id);
  /// Forgets one partition (`dbuild clear T@P`); its logs stay until pruned.
  void delete_partition(std::string_view dataset, std::string_view partition);
  /// Forgets every partition of a dataset (`dbuild clear T`).
  void delete_dataset(std::string_view dataset);
  /// Stores an action's log (truncated to kMaxLogBytes).
  void put_log(std::string_view dataset, std::string_view partition, uint64_t run_id,
               std::string_view text);
  /// Caches a file's stat and hash. Paths longer than 511 bytes are silently not cached.
  void put_stat(std::string_view path, const StatEntry& entry);
  void delete_stat(std::string_view path);

  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  /// Ok, or the first invalid name that was added.
  const Status& status() const { return status_; }

 private:
  friend class StateStore;
  /// Which named database an operation targets.
  enum class Db : uint8_t { kPartitions, kLogs, kStatCache };
  /// One operation; keys and values are already encoded.
  struct Op {
    enum class Kind : uint8_t { kPut, kDelete, kDeletePrefix, kRecordFailure, kRecordStart };
    Kind kind = Kind::kPut;
    Db db = Db::kPartitions;
    std::string key;
    std::string value;     // kPut only
    Hash128 failed_key;    // kRecordFailure, kRecordStart only
    uint64_t run_id = 0;   // kRecordFailure, kRecordStart only
  };
  bool check(std::string_view dataset, std::string_view partition);
  void add(Op::Kind kind, Db db, std::string key, std::string value = {});

  std::vector<Op> ops_;
  Status status_;
};

/// What prune() deleted.
struct PruneCounts {
  uint64_t runs = 0;
  uint64_t logs = 0;
};

/// Tunables for StateStore::open().
struct StateStoreOptions {
  size_t initial_map_bytes = size_t{64} << 20;  // grows by doubling when full
  bool check_records = true;  // decode every record on open (the structure is always checked)
};

/// The state store. See the top of this file for the format, failure handling and threading.
class StateStore {
 public:
  /// kReadOnly never writes (and never creates the directory); it runs beside a build.
  enum class OpenMode : uint8_t { kReadWrite, kReadOnly };

  using Options = StateStoreOptions;

  /// Whether an existing state can be used.
  enum class Condition : uint8_t {
    kUsable,           // `store` is open
    kMissing,          // kReadOnly only: nothing has been built yet (no state directory)
    kVersionMismatch,  // written by a dbuild with another format version: discard it
    kCorrupt,          // damaged: discard it
  };

  /// The outcome of open(): a store, or why there is none.
  struct Opened {
    std::unique_ptr<StateStore> store;  // non-null iff condition == kUsable
    Condition condition = Condition::kUsable;
    std::string reason;  // for the user when not usable, e.g. "format version 3, expected 1"
  };

  /// Opens (kReadWrite: creating if needed) the state in `dir`. An Error is an environment
  /// problem (permissions, disk, the store already open in this process); a damaged or
  /// foreign-version state is not an Error but a Condition.
  static Result<Opened> open(const std::string& dir, OpenMode mode, const Options& options = {});
  /// open(kReadWrite); when the state is unusable, moves it aside with reset(), sets *notice to
  /// a one-line explanation for the user, and opens a fresh one. *notice is cleared otherwise.
  static Result<std::unique_ptr<StateStore>> open_or_reset(const std::string& dir,
                                                           std::string* notice,
                                                           const Options& options = {});
  /// Moves `dir` to "<dir>.<label>-<YYYYmmdd-HHMMSS>[-N]" and returns that path ("" if `dir`
  /// does not exist). REQUIRES: the store in `dir` is not open in this process, and no other
  /// process uses it (hold the BuildLock).
  static Result<std::string> reset(const std::string& dir, std::string_view label = "corrupt");

  /// REQUIRES: every ReadTxn of this store has been destroyed.
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // ---- Reads ----
  /// A snapshot for many reads.
  Result<ReadTxn> read() const;
  /// One record, in its own snapshot.
  Result<std::optional<PartitionRecord>> get_partition(std::string_view dataset,
                                                       std::string_view partition) const;
  /// Every record, in one snapshot.
  Status for_each_partition(const PartitionFn& fn) const;

  // ---- Writes: REQUIRES mode() == kReadWrite and no live ReadTxn opened by this thread ----
  Status commit(const WriteBatch& batch);
  Status put_partition(std::string_view dataset, std::string_view partition,
                       const PartitionRecord& record);
  Status record_failure(std::string_view dataset, std::string_view partition,
                        const Hash128& failed_key, uint64_t run_id, std::string_view log);
  Status delete_partition(std::string_view dataset, std::string_view partition);
  /// Replaces the recorded groups of grouped table `dataset` (one commit).
  Status put_groups(std::string_view dataset, const std::vector<GroupRecord>& groups);

  /// Starts a run: allocates its id (the next of a dense sequence) and records its start.
  Result<uint64_t> begin_run(std::string_view command_line, int64_t started_unix_ms);
  /// Records how run `run_id` ended. Error if there is no such run.
  Status finish_run(uint64_t run_id, const RunOutcome& outcome);
  /// Deletes runs started before `older_than_unix_ms` and their logs, except a log that is
  /// still its partition's latest failure. Works in short transactions.
  Result<PruneCounts> prune(int64_t older_than_unix_ms);

  const std::string& dir() const { return dir_; }
  OpenMode mode() const { return mode_; }
  /// The current map size in bytes.
  size_t map_bytes() const;

 private:
  friend class ReadTxn;
  StateStore(std::string dir, OpenMode mode);
  Status open_env(const Options& options, size_t file_bytes, int* rc);
  /// kReadOnly in a directory this user cannot write: MDB_NOLOCK (no reader table).
  Status open_env_without_lock(const Options& options, size_t file_bytes, int* rc);
  Status probe_state(StateProbe* probe, int* rc) const;
  Status open_databases(Opened* out);
  Status attach_databases(Opened* out);
  Status create_databases();
  Status check_records(Opened* out) const;
  Status write(const std::function<Status(lmdb::WriteTxn&)>& apply);
  Status write_once(const std::function<Status(lmdb::WriteTxn&)>& apply, int* rc);
  Status resize_map(size_t bytes) const;
  Status apply_op(lmdb::WriteTxn& txn, const WriteBatch::Op& op) const;
  Status prune_runs(int64_t older_than_unix_ms, uint64_t* last_run, uint64_t* count);
  Status prune_logs(uint64_t last_run, uint64_t* count);

  std::string dir_;  // as given to open()
  std::string canonical_dir_;  // realpath, the key of the one-store-per-process registry
  OpenMode mode_;
  MDB_env* env_ = nullptr;
  std::unique_ptr<lmdb::Dbis> dbis_;
  std::unique_ptr<lmdb::ReaderGate> gate_;
  mutable std::mutex write_mutex_;  // serializes this process's write transactions and resizes
};

}  // namespace dbuild
