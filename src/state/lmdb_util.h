#pragma once
/// lmdb_util: small helpers for the LMDB calls in src/state (internal to the state stage):
/// error text, value views, the named-database handles, cursors, the reader gate that lets the
/// map be resized safely, and the write transaction the store's writes run in.
#include <lmdb.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"

namespace dbuild::lmdb {

/// The bytes of an LMDB value. Valid only while its transaction is open and, in a write
/// transaction, until the next write.
inline std::string_view view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}
inline MDB_val val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

/// True for LMDB errors that mean the files cannot be trusted.
bool is_corruption(int rc);
/// "state store: <what>: <LMDB's message>".
Status error(int rc, std::string_view what);

/// "state store is corrupt: <db> record '<key>': <why>", with the key made printable.
Status corrupt(std::string_view db, std::string_view key, const Status& why);

/// Called per record by scan(); returns false to stop early.
using RecordFn = std::function<bool(std::string_view key, std::string_view value)>;
/// Visits the records of `dbi` from the first key >= `from`, in key order, while keys start
/// with `prefix`. *rc gets the LMDB error, if any. The views are valid during the call only.
Status scan(MDB_txn* txn, MDB_dbi dbi, std::string_view from, std::string_view prefix,
            const RecordFn& fn, int* rc);

/// Handles of the named databases (see state_store.h); valid while the environment is open.
struct Dbis {
  MDB_dbi meta = 0;
  MDB_dbi partitions = 0;
  MDB_dbi runs = 0;
  MDB_dbi logs = 0;
  MDB_dbi stat_cache = 0;
};

/// An LMDB cursor, closed on destruction. REQUIRES: destroyed before its transaction ends.
class Cursor {
 public:
  Cursor() = default;
  ~Cursor() {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
  }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  /// Opens the cursor; returns an LMDB error code (0 on success).
  int open(MDB_txn* txn, MDB_dbi dbi) { return mdb_cursor_open(txn, dbi, &cursor_); }
  /// Positions the cursor; returns 0, MDB_NOTFOUND or an LMDB error.
  int get(MDB_val* key, MDB_val* value, MDB_cursor_op op) {
    return mdb_cursor_get(cursor_, key, value, op);
  }

 private:
  MDB_cursor* cursor_ = nullptr;
};

/// Counts live read transactions so that resizing the map (which unmaps it) waits until none
/// is open. Read transactions may start in one thread and end in another (MDB_NOTLS), so the
/// gate remembers which thread opened each one instead of using a thread-bound lock.
/// Thread-safe.
class ReaderGate {
 public:
  /// Blocks while a resize is waiting or running, unless `holder` already holds a reader.
  /// REQUIRES: holder is the calling thread.
  void enter(std::thread::id holder);
  void leave(std::thread::id holder);
  /// True if a read transaction opened by the calling thread is live.
  bool held_by_this_thread();
  /// Runs fn while no read transaction is live and no new one can start.
  /// Error (fn not run) if the calling thread holds one: waiting would never end.
  Status exclusive(const std::function<Status()>& fn);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread::id> holders_;  // one entry per live read transaction
  bool resizing_ = false;
};

/// The write transaction a store write runs in. Remembers the first LMDB error so the store can
/// tell a full map (grow and retry) from other failures. Values returned by get() are valid
/// until the next put or del.
class WriteTxn {
 public:
  WriteTxn(MDB_txn* txn, const Dbis& dbis) : txn_(txn), dbis_(dbis) {}

  Status put(MDB_dbi dbi, std::string_view key, std::string_view value);
  /// Deleting an absent key is not an error.
  Status del(MDB_dbi dbi, std::string_view key);
  /// The value under key, or nullopt if absent.
  Result<std::optional<std::string_view>> get(MDB_dbi dbi, std::string_view key);

  MDB_txn* txn() const { return txn_; }
  const Dbis& dbis() const { return dbis_; }
  int rc() const { return rc_; }
  /// Records an LMDB error from a call made directly on txn(); returns it as a Status.
  Status fail(int rc, std::string_view what);

 private:
  MDB_txn* txn_;
  const Dbis& dbis_;
  int rc_ = 0;  // first LMDB error; 0: none
};

}  // namespace dbuild::lmdb
