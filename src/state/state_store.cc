// StateStore: opening, checking, resetting and resizing. Reads are in state_store_read.cc,
// writes in state_store_write.cc.
#include "state/state_store.h"

#include <lmdb.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "state/lmdb_check.h"
#include "state/lmdb_util.h"
#include "state/state_codec.h"

namespace dbuild {

/// What an environment holds, read before the store trusts it.
struct StateProbe {
  std::optional<std::string> version;  // meta "version"; nullopt: absent
  std::vector<std::string> names;      // the named databases, in key order
};

namespace {

namespace fs = std::filesystem;
namespace codec = state_codec;

constexpr unsigned kMaxDbs = 8;
constexpr unsigned kMaxReaders = 512;
constexpr int kCheckAttempts = 3;  // structure checks interrupted by a concurrent commit
constexpr MDB_dbi kMainDbi = 1;     // LMDB's MAIN_DBI: the tree of named databases

/// Directories whose store is open in this process (LMDB allows one environment per file).
std::mutex g_open_mutex;
std::set<std::string>& open_dirs() {
  static std::set<std::string> dirs;
  return dirs;
}

bool claim_dir(const std::string& canonical) {
  std::lock_guard lock(g_open_mutex);
  return open_dirs().insert(canonical).second;
}

void release_dir(const std::string& canonical) {
  std::lock_guard lock(g_open_mutex);
  open_dirs().erase(canonical);
}

std::string canonical(const std::string& dir) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  return ec ? dir : p.string();
}

std::string data_path(const std::string& dir) { return (fs::path(dir) / "data.mdb").string(); }

StateStore::Opened unusable(StateStore::Condition condition, std::string reason) {
  StateStore::Opened out;
  out.condition = condition;
  out.reason = std::move(reason);
  return out;
}

/// Runs the structural check, again if a writer committed meanwhile. After kCheckAttempts
/// interrupted checks the file is trusted: a live writer opened (and checked) it itself.
Result<StateStore::Opened> check_structure(const std::string& dir) {
  int major = 0, minor = 0, patch = 0;
  mdb_version(&major, &minor, &patch);
  if (major != 0 || minor != 9) return StateStore::Opened{};  // unknown format: trust LMDB
  for (int attempt = 0; attempt < kCheckAttempts; ++attempt) {
    Result<LmdbFileCheck> check = check_lmdb_file(data_path(dir));
    if (!check.ok()) return check.status();
    if (check->state == LmdbFileState::kCorrupt) {
      return unusable(StateStore::Condition::kCorrupt, "data.mdb: " + check->problem);
    }
    if (check->state != LmdbFileState::kChanged) break;
  }
  return StateStore::Opened{};
}

/// The named databases and where their handles go.
struct NamedDb {
  const char* name;
  MDB_dbi lmdb::Dbis::*field;
};
constexpr NamedDb kNamedDbs[] = {
    {"logs", &lmdb::Dbis::logs},       {"meta", &lmdb::Dbis::meta},
    {"partitions", &lmdb::Dbis::partitions}, {"runs", &lmdb::Dbis::runs},
    {"stat_cache", &lmdb::Dbis::stat_cache},
};

/// Lists the named databases and reads meta "version" (left empty if absent).
int probe_env(MDB_txn* txn, StateProbe* probe) {
  lmdb::Cursor cursor;
  MDB_val key, value;
  int rc = cursor.open(txn, kMainDbi);
  for (rc = rc != 0 ? rc : cursor.get(&key, &value, MDB_FIRST); rc == 0;
       rc = cursor.get(&key, &value, MDB_NEXT)) {
    probe->names.emplace_back(lmdb::view(key));
  }
  if (rc != MDB_NOTFOUND) return rc;
  if (std::find(probe->names.begin(), probe->names.end(), "meta") == probe->names.end()) return 0;
  MDB_dbi meta = 0;
  rc = mdb_dbi_open(txn, "meta", 0, &meta);
  key = lmdb::val("version");
  if (rc == 0) rc = mdb_get(txn, meta, &key, &value);
  if (rc == 0) probe->version = std::string(lmdb::view(value));
  return rc == MDB_NOTFOUND ? 0 : rc;
}

/// Empty if `names` are exactly the store's named databases; otherwise what differs.
std::string names_problem(const std::vector<std::string>& names) {
  for (const NamedDb& db : kNamedDbs) {
    if (std::find(names.begin(), names.end(), db.name) == names.end()) {
      return fmt::format("database '{}' is missing", db.name);
    }
  }
  if (names.size() != std::size(kNamedDbs)) return "the state has unknown databases";
  return {};
}

size_t file_size(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

std::string timestamp_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return buf;
}

}  // namespace

StateStore::StateStore(std::string dir, OpenMode mode)
    : dir_(std::move(dir)),
      mode_(mode),
      dbis_(std::make_unique<lmdb::Dbis>()),
      gate_(std::make_unique<lmdb::ReaderGate>()) {}

StateStore::~StateStore() {
  if (env_ != nullptr) mdb_env_close(env_);
  if (!canonical_dir_.empty()) release_dir(canonical_dir_);
}

Result<StateStore::Opened> StateStore::open(const std::string& dir, OpenMode mode,
                                            const Options& options) {
  std::error_code ec;
  if (mode == OpenMode::kReadOnly && !fs::exists(data_path(dir), ec)) {
    return unusable(Condition::kMissing, "nothing has been built yet");
  }
  if (mode == OpenMode::kReadWrite && (fs::create_directories(dir, ec), ec)) {
    return Status::Error(fmt::format("cannot create {}: {}", dir, ec.message()));
  }
  std::unique_ptr<StateStore> store(new StateStore(dir, mode));
  std::string key = canonical(dir);
  if (!claim_dir(key)) {
    return Status::Error(fmt::format("state store {} is already open in this process", dir));
  }
  store->canonical_dir_ = key;
  Result<Opened> checked = check_structure(dir);
  if (!checked.ok() || checked->condition != Condition::kUsable) return checked;
  int rc = 0;
  Status s = store->open_env(options, file_size(data_path(dir)), &rc);
  if (!s.ok()) {
    if (lmdb::is_corruption(rc)) return unusable(Condition::kCorrupt, s.message());
    if (rc == ENOENT && mode == OpenMode::kReadOnly) {
      return unusable(Condition::kMissing, "nothing has been built yet");
    }
    return s;
  }
  Opened out;
  s = store->open_databases(&out);
  if (s.ok() && out.condition == Condition::kUsable && options.check_records) {
    s = store->check_records(&out);
  }
  if (!s.ok()) return s;
  if (out.condition == Condition::kUsable) out.store = std::move(store);
  return out;
}

Status StateStore::open_env(const Options& options, size_t file_bytes, int* rc) {
  *rc = mdb_env_create(&env_);
  if (*rc != 0) return lmdb::error(*rc, "create environment");
  size_t map = std::max(options.initial_map_bytes, file_bytes * 2);
  map = (map + (size_t{1} << 20) - 1) & ~((size_t{1} << 20) - 1);  // whole MiB
  mdb_env_set_maxdbs(env_, kMaxDbs);
  mdb_env_set_maxreaders(env_, kMaxReaders);
  mdb_env_set_mapsize(env_, map);
  unsigned flags = MDB_NOTLS | (mode_ == OpenMode::kReadOnly ? MDB_RDONLY : 0);
  *rc = mdb_env_open(env_, dir_.c_str(), flags, 0644);
  if (*rc == 0) return Status::Ok();
  mdb_env_close(env_);  // required after a failed open
  env_ = nullptr;
  if (mode_ == OpenMode::kReadOnly && *rc == EACCES && (flags & MDB_NOLOCK) == 0) {
    // A workspace this user cannot write: lock.mdb cannot be opened for writing, so read
    // without LMDB's reader table. No build can be writing as this user; one by another user
    // could, which is the price of reading a state one cannot lock.
    return open_env_without_lock(options, file_bytes, rc);
  }
  return lmdb::error(*rc, "open " + dir_);
}

Status StateStore::open_env_without_lock(const Options& options, size_t file_bytes, int* rc) {
  *rc = mdb_env_create(&env_);
  if (*rc != 0) return lmdb::error(*rc, "create environment");
  size_t map = std::max(options.initial_map_bytes, file_bytes * 2);
  map = (map + (size_t{1} << 20) - 1) & ~((size_t{1} << 20) - 1);
  mdb_env_set_maxdbs(env_, kMaxDbs);
  mdb_env_set_mapsize(env_, map);
  *rc = mdb_env_open(env_, dir_.c_str(), MDB_NOTLS | MDB_RDONLY | MDB_NOLOCK, 0644);
  if (*rc == 0) return Status::Ok();
  mdb_env_close(env_);
  env_ = nullptr;
  return lmdb::error(*rc, "open " + dir_);
}

/// Reads what the environment holds, without writing anything.
Status StateStore::probe_state(StateProbe* probe, int* rc) const {
  MDB_txn* txn = nullptr;
  *rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (*rc != 0) return lmdb::error(*rc, "begin read");
  *rc = probe_env(txn, probe);
  mdb_txn_abort(txn);
  return *rc == 0 ? Status::Ok() : lmdb::error(*rc, "read the format version");
}

/// Checks the format version and the named databases; opens them (creates them in a fresh
/// kReadWrite state).
Status StateStore::open_databases(Opened* out) {
  StateProbe probe;
  int rc = 0;
  Status s = probe_state(&probe, &rc);
  if (!s.ok()) {
    if (!lmdb::is_corruption(rc)) return s;
    *out = unusable(Condition::kCorrupt, s.message());
    return Status::Ok();
  }
  uint32_t number = 0;
  std::string problem;
  if (!probe.version && !probe.names.empty()) {
    *out = unusable(Condition::kCorrupt, "the state has no format version");
  } else if (!probe.version) {
    if (mode_ == OpenMode::kReadWrite) return create_databases();
    *out = unusable(Condition::kMissing, "nothing has been built yet");
  } else if (s = codec::decode_version(*probe.version, &number); !s.ok()) {
    *out = unusable(Condition::kCorrupt, s.message());
  } else if (number >= codec::kOldestReadableVersion && number < codec::kFormatVersion) {
    // An older layout that this version reads as it is: upgrade the version mark in place.
    if (problem = names_problem(probe.names); !problem.empty()) {
      *out = unusable(Condition::kCorrupt, problem);
      return Status::Ok();
    }
    if (mode_ == OpenMode::kReadWrite) {
      s = write([](lmdb::WriteTxn& w) {
        MDB_dbi meta = 0;
        int rc = mdb_dbi_open(w.txn(), "meta", 0, &meta);
        if (rc != 0) return w.fail(rc, "open database 'meta'");
        return w.put(meta, "version", codec::encode_version(codec::kFormatVersion));
      });
      if (!s.ok()) return s;
    }
    return attach_databases(out);
  } else if (number != codec::kFormatVersion) {
    *out = unusable(Condition::kVersionMismatch,
                    fmt::format("it has format version {}, this dbuild uses {}", number,
                                codec::kFormatVersion));
  } else if (problem = names_problem(probe.names); !problem.empty()) {
    *out = unusable(Condition::kCorrupt, problem);
  } else {
    return attach_databases(out);
  }
  return Status::Ok();
}

/// Opens the existing databases in a read transaction (committed, so the handles stay valid for
/// the environment's lifetime).
Status StateStore::attach_databases(Opened* out) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) return lmdb::error(rc, "begin read");
  for (const NamedDb& db : kNamedDbs) {
    rc = mdb_dbi_open(txn, db.name, 0, &((*dbis_).*db.field));
    if (rc != 0) {
      mdb_txn_abort(txn);
      if (rc != MDB_NOTFOUND && !lmdb::is_corruption(rc)) return lmdb::error(rc, db.name);
      *out = unusable(Condition::kCorrupt, fmt::format("database '{}' is missing", db.name));
      return Status::Ok();
    }
  }
  rc = mdb_txn_commit(txn);
  return rc == 0 ? Status::Ok() : lmdb::error(rc, "open databases");
}

/// Initializes a fresh state: the databases, the format version and the run counter.
Status StateStore::create_databases() {
  return write([&](lmdb::WriteTxn& w) {
    for (const NamedDb& db : kNamedDbs) {
      int rc = mdb_dbi_open(w.txn(), db.name, MDB_CREATE, &((*dbis_).*db.field));
      if (rc != 0) return w.fail(rc, fmt::format("open database '{}'", db.name));
    }
    Status s = w.put(dbis_->meta, "version", codec::encode_version(codec::kFormatVersion));
    if (!s.ok()) return s;
    return w.put(dbis_->meta, "next_run_id", codec::encode_u64("next_run_id", 1));
  });
}

/// Decodes every record (and checks every key's shape) in one snapshot.
Status StateStore::check_records(Opened* out) const {
  Result<ReadTxn> txn = read();
  if (!txn.ok()) return txn.status();
  std::string problem;
  Status s = txn->check_all(&problem);
  if (!s.ok()) return s;
  if (!problem.empty()) *out = unusable(Condition::kCorrupt, problem);
  return Status::Ok();
}

// ---- Reset ----

Result<std::string> StateStore::reset(const std::string& dir, std::string_view label) {
  std::error_code ec;
  std::string trimmed = fs::path(dir).lexically_normal().string();
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  if (!fs::exists(trimmed, ec)) return std::string();
  {
    std::lock_guard lock(g_open_mutex);
    if (open_dirs().count(canonical(trimmed)) != 0) {
      return Status::Error(fmt::format("cannot reset {}: it is open in this process", dir));
    }
  }
  std::string base = fmt::format("{}.{}-{}", trimmed, label, timestamp_now());
  std::string target = base;
  for (int n = 2; fs::exists(target, ec); ++n) target = fmt::format("{}-{}", base, n);
  if (::rename(trimmed.c_str(), target.c_str()) != 0) {
    return Status::Error(
        fmt::format("cannot move {} to {}: {}", trimmed, target, std::strerror(errno)));
  }
  return target;
}

Result<std::unique_ptr<StateStore>> StateStore::open_or_reset(const std::string& dir,
                                                              std::string* notice,
                                                              const Options& options) {
  notice->clear();
  Result<Opened> opened = open(dir, OpenMode::kReadWrite, options);
  if (!opened.ok()) return opened.status();
  if (opened->condition == Condition::kUsable) return std::move(opened->store);
  bool old = opened->condition == Condition::kVersionMismatch;
  Result<std::string> moved = reset(dir, old ? "old" : "corrupt");
  if (!moved.ok()) return moved.status();
  *notice = fmt::format("the build state in {} is {} ({}); moved it to {} and starting afresh",
                        dir, old ? "from another dbuild version" : "damaged", opened->reason,
                        *moved);
  Result<Opened> fresh = open(dir, OpenMode::kReadWrite, options);
  if (!fresh.ok()) return fresh.status();
  if (fresh->condition != Condition::kUsable) {
    return Status::Error(fmt::format("a fresh state in {} is unusable: {}", dir, fresh->reason));
  }
  return std::move(fresh->store);
}

// ---- Map size ----

size_t StateStore::map_bytes() const {
  MDB_envinfo info{};
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

/// Sets the map size (0: adopt the size another process grew it to).
/// REQUIRES: write_mutex_ held.
Status StateStore::resize_map(size_t bytes) const {
  return gate_->exclusive([&] {
    int rc = mdb_env_set_mapsize(env_, bytes);
    return rc == 0 ? Status::Ok() : lmdb::error(rc, "resize the map");
  });
}

}  // namespace dbuild
