#pragma once
/// Internal to the SQLite engine: tables as dbuild lays them out (key columns first, an index on
/// them), partition predicates, and reading a stored partition's fingerprint.
/// Functions take the connection of the calling engine; one thread at a time.
#include <sqlite3.h>

#include <string>
#include <vector>

#include "base/status.h"
#include "values/row_hash.h"
#include "engine/sqlite/sqlite_engine.h"
#include "engine/sqlite/sqlite_stmt.h"

namespace dbuild::exec {

/// A column of an existing table.
struct TableColumn {
  std::string name;       // as the table spells it
  std::string decl_type;  // as declared; empty: none (BLOB affinity)
};

/// A column to create: its name and declared type ("" for none).
struct OutputColumn {
  std::string name;
  std::string decl_type;
};

/// The columns of main."table" in order; empty when there is no such table.
Result<std::vector<TableColumn>> read_columns(sqlite3* db, const std::string& table);

/// Creates main."table" (keys, then columns) or adds the columns it lacks, and the key index.
/// Fails if an existing table lacks a key column.
/// REQUIRES: no column is named like a key (see key_clash); inside a write transaction.
Status ensure_table(sqlite3* db, const std::string& table, const std::vector<KeyColumn>& keys,
                    const std::vector<OutputColumn>& columns);

/// The first of `names` equal (ignoring ASCII case) to a key column's name; empty if none.
std::string key_clash(const std::vector<std::string>& names, const std::vector<KeyColumn>& keys);

/// Fails when a key value is NULL or two keys share a name.
Status check_keys(const std::vector<KeyColumn>& keys);

/// `"k1" = ?N AND "k2" = ?N+1 ...` ("1" with no keys), parameters numbered from `first`.
std::string key_predicate(const std::vector<KeyColumn>& keys, int first);
/// Binds the key values to parameters first, first+1, ...
Status bind_keys(Stmt& st, const std::vector<KeyColumn>& keys, int first);

/// The SQL type a key column is created with: INTEGER for integers, REAL, TEXT otherwise.
const char* key_decl_type(const Value& v);

/// Adds column `i` of the current row of `st` to the row encoding (NULL adds nothing).
void encode_column(RowEncoder& enc, sqlite3_stmt* st, int i, std::string_view name);

/// Reads partition `keys` of main."table" and computes its fingerprint (row_hash.h).
/// REQUIRES: the table exists.
Result<WriteResult> fingerprint_stored(sqlite3* db, const std::string& table,
                                       const std::vector<KeyColumn>& keys);

}  // namespace dbuild::exec
