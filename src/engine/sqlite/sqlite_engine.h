#pragma once
/// SqliteEngine: dbuild's embedded SQL engine. It writes partitions of tables — from source files
/// (load_partition) or from SQL queries (write_query_partition) — each in one transaction that
/// either commits the whole new partition or leaves the previous one untouched, and it computes
/// partition fingerprints (row_hash.h) on the same code path for writing and for verifying.
///
/// Storage. A partitioned table holds every partition; key columns come first, then data columns,
/// with an index "dbuild_key_<table>" on the key columns. Key values are stored as value.h says
/// (date 'YYYY-MM-DD' text, int integer, ...). A partition is the set of rows whose key columns
/// equal its key values. Tables are always named in the main schema (main."t").
///
/// Durability. open() sets WAL mode and synchronous=FULL: a COMMIT is on disk when it returns.
/// The state store records "partition P was built with key K" only after this commit, so a commit
/// that could be lost on power failure (synchronous=NORMAL in WAL) would let the record outlive
/// the data; FULL rules that out at the cost of one fsync per partition write.
///
/// Concurrency. A SqliteEngine owns one connection and is used by one thread at a time. Several
/// engines (threads or processes) may open the same file: WAL lets readers run beside a writer,
/// and writers take the write lock with BEGIN IMMEDIATE, waiting up to busy_timeout_ms.
///
/// Safety. Identifiers are double-quoted (embedded quotes doubled) and every value is bound as a
/// parameter, never spliced into SQL. User queries are prepared under an authorizer that allows
/// reading only (no writes, ATTACH, PRAGMA or transaction control).
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/hash.h"
#include "base/status.h"
#include "engine/engine.h"
#include "engine/sqlite/sqlite_checks.h"
#include "values/value.h"

namespace dbuild::exec {

class RegexCache;

/// Settings for open().
struct EngineOptions {
  int busy_timeout_ms = 10 * 60 * 1000;  // how long a writer waits for another's transaction
};

/// One connection to a warehouse database file (see the file comment for the guarantees).
class SqliteEngine : public EngineSession {
 public:
  /// Opens or creates the database at `path` (":memory:" for a private in-memory one). An
  /// existing file that this user cannot write, or in a directory it cannot write, is opened
  /// read-only (writes then fail); without a -shm file, as immutable (SQLite could not read a
  /// WAL database otherwise), so rows only in an un-checkpointed -wal file are not seen.
  static Result<std::unique_ptr<SqliteEngine>> open(const std::string& path,
                                                   const EngineOptions& options = {});
  ~SqliteEngine() override;
  SqliteEngine(const SqliteEngine&) = delete;
  SqliteEngine& operator=(const SqliteEngine&) = delete;

  /// Replaces partition `keys` of `table` with the rows of `file_path`, creating the table (key
  /// columns, then the file's columns with typed affinity) or adding missing columns. On any error
  /// nothing changes; loader errors read "file:line:col: message".
  Result<WriteResult> load_partition(const std::string& table, const std::vector<KeyColumn>& keys,
                                     const LoadSpec& spec, const std::string& file_path) override;

  /// Replaces partition q.keys of q.table with the rows of q.sql, then runs q.checks on them; all
  /// in one transaction, rolled back on any error or failed check. The output table is created
  /// (key columns + result columns, no declared types) or widened with ADD COLUMN. A result column
  /// named like a key column is an error. If the query reads q.table itself, its rows are
  /// computed before the old partition is deleted.
  Result<WriteResult> write_query_partition(const QuerySpec& q) override;

  /// The fingerprint and row count of a stored partition; equals what the write returned.
  /// Fails if the table does not exist.
  Result<WriteResult> fingerprint_partition(const std::string& table,
                                            const std::vector<KeyColumn>& keys) override;
  /// Deletes the partition's rows (nothing to do if the table does not exist).
  Status delete_partition(const std::string& table, const std::vector<KeyColumn>& keys) override;
  Result<bool> table_exists(const std::string& table) override;
  /// The distinct key tuples in the table, sorted. Fails if the table does not exist.
  Result<std::vector<std::vector<Value>>> list_partitions(
      const std::string& table, const std::vector<std::string>& key_columns) override;
  Result<int64_t> count_nulls(const std::string& table, const std::string& column) override;
  /// Column names in order; empty if the table does not exist.
  Result<std::vector<std::string>> table_columns(const std::string& table) override;

  /// Prepares `sql` without running it or changing the database: result columns and tables read.
  /// Fails if it is not a single read-only statement returning columns. On failure, *error (if
  /// given) gets the message and the byte offset SQLite reports.
  Result<PreparedInfo> prepare(const std::string& sql, SqlError* error = nullptr) override;

  /// A table in the temp schema (shadowing main's of the same name), columns without declared
  /// types, holding `rows` with their values' storage classes.
  Status create_scratch_table(const std::string& name, const RowSet& rows) override;
  Result<RowSet> run_select(const std::string& sql, const std::vector<Value>& params) override;

  /// The connection, for tests and diagnostics. Not for writing partitions.
  sqlite3* handle() const { return db_; }

 private:
  SqliteEngine(sqlite3* db, std::unique_ptr<RegexCache> cache);
  Status configure(const EngineOptions& options);
  /// "table" or "view" for `name` in `schema` (empty: as an unqualified name resolves);
  /// empty when there is no such object.
  Result<std::string> object_type(const std::string& schema, const std::string& name);
  void configure_common(const EngineOptions& options);
  Status configure_read_only(const EngineOptions& options);  // no WAL switch, no writes

  sqlite3* db_;
  std::unique_ptr<RegexCache> regex_cache_;  // used by db_'s functions; outlives db_
};

}  // namespace dbuild::exec
