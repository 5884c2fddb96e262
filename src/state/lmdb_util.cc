#include "state/lmdb_util.h"

#include <algorithm>

#include <fmt/format.h>

namespace dbuild::lmdb {

bool is_corruption(int rc) {
  switch (rc) {
    case MDB_CORRUPTED:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_PAGE_NOTFOUND:
    case MDB_INCOMPATIBLE:
    case MDB_PANIC:
    case MDB_BAD_TXN:
      return true;
    default:
      return false;
  }
}

Status error(int rc, std::string_view what) {
  return Status::Error(fmt::format("state store: {}: {}", what, mdb_strerror(rc)));
}

namespace {

/// A key made printable for messages: NULs become '@' (dataset@partition) and other control or
/// non-ASCII bytes are escaped.
std::string printable(std::string_view key) {
  std::string out;
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0) out += '@';
    else if (u < 0x20 || u >= 0x7f) out += fmt::format("\\x{:02x}", u);
    else out += c;
  }
  return out;
}

}  // namespace

Status corrupt(std::string_view db, std::string_view key, const Status& why) {
  return Status::Error(fmt::format("state store is corrupt: {} record '{}': {}", db,
                                   printable(key), why.message()));
}

Status scan(MDB_txn* txn, MDB_dbi dbi, std::string_view from, std::string_view prefix,
            const RecordFn& fn, int* rc) {
  Cursor cursor;
  *rc = cursor.open(txn, dbi);
  MDB_val key = val(from);
  MDB_val value;
  if (*rc == 0) *rc = cursor.get(&key, &value, from.empty() ? MDB_FIRST : MDB_SET_RANGE);
  while (*rc == 0) {
    std::string_view k = view(key);
    if (!k.starts_with(prefix) || !fn(k, view(value))) return Status::Ok();
    *rc = cursor.get(&key, &value, MDB_NEXT);
  }
  if (*rc == MDB_NOTFOUND) *rc = 0;
  return *rc == 0 ? Status::Ok() : error(*rc, "scan");
}

// ---- ReaderGate ----

void ReaderGate::enter(std::thread::id holder) {
  std::unique_lock lock(mu_);
  // A thread that already holds a reader is let in even while a resize waits: the resize waits
  // for that reader anyway, and blocking here would deadlock the two.
  cv_.wait(lock, [&] {
    return !resizing_ || std::find(holders_.begin(), holders_.end(), holder) != holders_.end();
  });
  holders_.push_back(holder);
}

void ReaderGate::leave(std::thread::id holder) {
  std::lock_guard lock(mu_);
  auto it = std::find(holders_.begin(), holders_.end(), holder);
  if (it != holders_.end()) holders_.erase(it);
  cv_.notify_all();
}

bool ReaderGate::held_by_this_thread() {
  std::lock_guard lock(mu_);
  return std::find(holders_.begin(), holders_.end(), std::this_thread::get_id()) !=
         holders_.end();
}

Status ReaderGate::exclusive(const std::function<Status()>& fn) {
  std::unique_lock lock(mu_);
  auto self = std::this_thread::get_id();
  if (std::find(holders_.begin(), holders_.end(), self) != holders_.end()) {
    return Status::Error(
        "state store: cannot resize the map while this thread holds a read transaction");
  }
  cv_.wait(lock, [&] { return !resizing_; });
  resizing_ = true;
  cv_.wait(lock, [&] { return holders_.empty(); });
  Status s = fn();
  resizing_ = false;
  cv_.notify_all();
  return s;
}

// ---- WriteTxn ----

Status WriteTxn::fail(int rc, std::string_view what) {
  if (rc_ == 0) rc_ = rc;
  return error(rc, what);
}

Status WriteTxn::put(MDB_dbi dbi, std::string_view key, std::string_view value) {
  MDB_val k = val(key);
  MDB_val v = val(value);
  int rc = mdb_put(txn_, dbi, &k, &v, 0);
  return rc == 0 ? Status::Ok() : fail(rc, "write");
}

Status WriteTxn::del(MDB_dbi dbi, std::string_view key) {
  MDB_val k = val(key);
  int rc = mdb_del(txn_, dbi, &k, nullptr);
  return rc == 0 || rc == MDB_NOTFOUND ? Status::Ok() : fail(rc, "delete");
}

Result<std::optional<std::string_view>> WriteTxn::get(MDB_dbi dbi, std::string_view key) {
  MDB_val k = val(key);
  MDB_val v;
  int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
  if (rc != 0) return fail(rc, "read");
  return std::optional<std::string_view>(view(v));
}

}  // namespace dbuild::lmdb
