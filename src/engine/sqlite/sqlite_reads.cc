#include "engine/sqlite/sqlite_reads.h"

#include <fmt/format.h>

namespace dbuild::exec {

namespace {

/// What the authorizer saw while one statement was prepared.
struct AuthLog {
  std::vector<TableRead>* reads;
  const char* denied = nullptr;  // the first action refused; nullptr: none
};

const char* action_name(int code) {
  switch (code) {
    case SQLITE_INSERT: return "INSERT";
    case SQLITE_UPDATE: return "UPDATE";
    case SQLITE_DELETE: return "DELETE";
    case SQLITE_PRAGMA: return "PRAGMA";
    case SQLITE_ATTACH: return "ATTACH";
    case SQLITE_DETACH: return "DETACH";
    case SQLITE_TRANSACTION: return "transaction control";
    case SQLITE_SAVEPOINT: return "SAVEPOINT";
    case SQLITE_ALTER_TABLE: return "ALTER TABLE";
    case SQLITE_ANALYZE: return "ANALYZE";
    case SQLITE_REINDEX: return "REINDEX";
    case SQLITE_DROP_TABLE: case SQLITE_DROP_VIEW: case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TRIGGER: case SQLITE_DROP_TEMP_TABLE: case SQLITE_DROP_TEMP_VIEW:
    case SQLITE_DROP_TEMP_INDEX: case SQLITE_DROP_TEMP_TRIGGER: case SQLITE_DROP_VTABLE:
      return "DROP";
    default: return "CREATE or another change";
  }
}

int authorize(void* user, int code, const char* a3, const char*, const char* db, const char* via) {
  auto* log = static_cast<AuthLog*>(user);
  switch (code) {
    case SQLITE_SELECT:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_READ: {
      std::string_view table = a3 ? a3 : "";
      if (table.empty() || table.substr(0, 7) == "sqlite_") return SQLITE_OK;
      TableRead r{db ? db : "", std::string(table), via ? via : ""};
      for (const TableRead& seen : *log->reads) {
        if (seen.schema == r.schema && seen.table == r.table && seen.via == r.via) return SQLITE_OK;
      }
      log->reads->push_back(std::move(r));
      return SQLITE_OK;
    }
    default:
      if (!log->denied) log->denied = action_name(code);
      return SQLITE_DENY;
  }
}

Status fail(SqlError* error, std::string message, int offset) {
  if (error) *error = SqlError{message, offset};
  if (offset >= 0) message += fmt::format(" (at byte {} of the SQL)", offset);
  return Status::Error(std::move(message));
}

/// True when `tail` holds only whitespace and comments.
bool empty_tail(sqlite3* db, const char* tail, const char* end) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, tail, static_cast<int>(end - tail), &st, nullptr);
  bool empty = rc == SQLITE_OK && st == nullptr;
  sqlite3_finalize(st);
  return empty;
}

}  // namespace

Result<Stmt> prepare_user_sql(sqlite3* db, const std::string& sql, std::vector<TableRead>* reads,
                              SqlError* error) {
  AuthLog log{reads};
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  sqlite3_set_authorizer(db, authorize, &log);
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
  sqlite3_set_authorizer(db, nullptr, nullptr);
  Stmt st(raw);
  if (log.denied) {
    return fail(error, fmt::format("the query may only read data, but it uses {}", log.denied), -1);
  }
  if (rc != SQLITE_OK) return fail(error, sqlite3_errmsg(db), sqlite3_error_offset(db));
  if (!st) return fail(error, "the query is empty", -1);
  if (!empty_tail(db, tail, sql.data() + sql.size())) {
    return fail(error, "only one SQL statement is allowed; another one follows",
                static_cast<int>(tail - sql.data()));
  }
  if (st.column_count() == 0 || !sqlite3_stmt_readonly(st.get())) {
    return fail(error, "the query must be a SELECT that returns columns", -1);
  }
  return st;
}

}  // namespace dbuild::exec
