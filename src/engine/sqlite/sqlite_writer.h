#pragma once
/// Internal to the SQLite engine: PartitionWriter replaces one partition's rows inside the caller's
/// transaction and fingerprints them as it inserts.
///
/// Fingerprints hash the values as stored. A value SQLite would convert on insert (text into an
/// INTEGER column of a table made elsewhere, say) would make the hash of the value written differ
/// from the hash of the value read back; when one occurs, finish() hashes the stored partition
/// instead, so the write path and fingerprint_partition() always agree.
/// Used by one thread; lives inside one transaction.
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "values/row_hash.h"
#include "engine/sqlite/sqlite_schema.h"
#include "engine/sqlite/sqlite_stmt.h"

namespace dbuild::exec {

/// Replaces one partition of one table (see the file comment).
class PartitionWriter {
 public:
  /// Creates or widens the table, deletes the partition's rows and prepares the insert.
  /// REQUIRES: a write transaction is open on db; check_keys(keys) passed; no column is named
  /// like a key; column names are distinct.
  static Result<std::unique_ptr<PartitionWriter>> start(sqlite3* db, const std::string& table,
                                                        const std::vector<KeyColumn>& keys,
                                                        const std::vector<OutputColumn>& columns);

  /// Inserts a row of the output columns. Text is bound without copying: `row` must not change
  /// during the call. REQUIRES: row.size() == number of columns.
  Status add(const std::vector<Value>& row);
  /// Inserts the current row of `select`, whose result columns are the output columns in order.
  Status add(sqlite3_stmt* select);
  /// Row count and fingerprint of the partition as written.
  Result<WriteResult> finish();

 private:
  PartitionWriter(sqlite3* db, std::string table, std::vector<KeyColumn> keys);
  Status map_columns(const std::vector<OutputColumn>& columns);
  Status prepare_insert(const std::vector<OutputColumn>& columns);
  Status insert_bound();
  void hash_values(const std::vector<Value>& row);
  void hash_select(sqlite3_stmt* select);

  sqlite3* db_;
  std::string table_;
  std::vector<KeyColumn> keys_;
  Stmt insert_;
  int first_value_param_ = 1;           // parameter of output column 0 in insert_
  std::vector<std::string> names_;      // per output column: the table's spelling of its name
  std::vector<Affinity> affinity_;      // per output column
  std::vector<size_t> table_order_;     // output columns sorted by their position in the table
  RowEncoder enc_;
  MultisetHash rows_;
  bool rehash_ = false;  // a value was converted on insert: finish() re-reads the partition
};

}  // namespace dbuild::exec
