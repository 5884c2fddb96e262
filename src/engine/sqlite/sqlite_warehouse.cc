#include "engine/sqlite/sqlite_warehouse.h"

#include <sqlite3.h>
#include <unistd.h>

#include <fmt/format.h>

#include "engine/sqlite/sqlite_engine.h"

namespace dbuild::exec {

bool SqliteWarehouse::may_have_data() const { return ::access(path_.c_str(), F_OK) == 0; }

Result<std::unique_ptr<EngineSession>> SqliteWarehouse::open() {
  // The first session creates the file and switches it to WAL alone: changing the journal
  // mode of a new file is not covered by the busy timeout, so sessions opening side by side
  // could fail with "database is locked".
  std::unique_lock<std::mutex> lock(prime_mu_);
  if (primed_) lock.unlock();
  auto e = SqliteEngine::open(path_);
  if (!e.ok()) return e.status();
  if (lock.owns_lock()) primed_ = true;
  return std::unique_ptr<EngineSession>(std::move(*e));
}

Result<std::unique_ptr<EngineSession>> SqliteWarehouse::open_scratch() {
  auto e = SqliteEngine::open(":memory:");
  if (!e.ok()) return e.status();
  return std::unique_ptr<EngineSession>(std::move(*e));
}

std::string SqliteWarehouse::placeholder(size_t index, const Value&) const { return fmt::format("?{}", index + 1); }

std::string SqliteWarehouse::damage_hint(const std::string& message) const {
  if (message.find(sqlite3_errstr(SQLITE_CORRUPT)) == std::string::npos &&
      message.find(sqlite3_errstr(SQLITE_NOTADB)) == std::string::npos)
    return "";
  return fmt::format(
      "  hint: the warehouse {0} is damaged. Restore it from a backup, or move it aside (mv {0} {0}.damaged) "
      "and run `dbuild build` to rebuild everything from the sources\n",
      path_);
}

Status SqliteWarehouse::probe() const {
  if (::access(path_.c_str(), F_OK) != 0) return Status::Ok();
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
  Status s = rc == SQLITE_OK ? Status::Ok() : Status::Error(fmt::format("{}: sqlite: {}", path_, sqlite3_errstr(rc)));
  sqlite3_close(db);
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return s;
  return Status::Ok();  // anything else (busy, permissions) is for a session to report
}

}  // namespace dbuild::exec
