#pragma once
/// Internal to the SQLite engine: preparing a user's SQL under an authorizer that allows reading
/// only, and recording which tables the statement reads.
/// SQLite reports a read through a view (or a CTE) as a read of the underlying table with the
/// view's name attached, and the view itself as a direct read; TableRead keeps both facts.
#include <sqlite3.h>

#include <string>
#include <vector>

#include "engine/sqlite/sqlite_engine.h"
#include "engine/sqlite/sqlite_stmt.h"

namespace dbuild::exec {

/// One table or view a statement reads, as the authorizer reported it.
struct TableRead {
  std::string schema;  // "main", "temp", or an attached database
  std::string table;
  std::string via;     // the view or CTE whose expansion reads it; empty: named by the SQL itself
};

/// Prepares `sql` as one read-only statement returning columns. Fails, filling *error (if not
/// null) with SQLite's message and offset, on an SQL error, a write or other non-read action,
/// more than one statement, or no result columns. Internal sqlite_* tables are not recorded.
Result<Stmt> prepare_user_sql(sqlite3* db, const std::string& sql, std::vector<TableRead>* reads,
                              SqlError* error);

}  // namespace dbuild::exec
