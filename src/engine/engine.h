#pragma once
/// Engine: where a dataset's rows live and its SQL runs — the embedded SQLite warehouse, a
/// PostgreSQL server, a ClickHouse cluster. The evaluator, `check`, `test` and `verify` reach
/// every engine through this interface only and know none by name; each implementation lives in
/// its own folder (engine/sqlite, engine/postgres, engine/clickhouse) and is the only code that
/// includes its client library.
///
/// Partitions. A partitioned table holds every partition; a partition is the set of rows whose
/// key columns equal its key values (key columns first, then data columns). Every write replaces
/// one partition atomically: readers see the old rows or the new rows, and a write that fails
/// (an error, a failed check, an interrupt) leaves the old rows as they were.
///
/// Fingerprints. An engine computes a partition's fingerprint where the rows are — no row travels
/// to dbuild — as an order-independent hash of its rows (key columns excluded), on the same code
/// path after a write and when verifying. Engines hash rows differently, so the same rows have
/// different fingerprints on SQLite and on PostgreSQL; that is fine because a fingerprint is
/// only compared with one computed by the same engine: a table reads its inputs in its own
/// engine, and moving a table to another engine changes its definition (the engine identity is
/// part of every key).
///
/// Threads. An Engine may be shared by threads (open() is thread-safe); an EngineSession is one
/// connection, used by one thread at a time.
///
/// Secrets. Connection settings may come from the environment (passwords); an engine never puts
/// them in describe(), in error messages or in anything it returns.
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/hash.h"
#include "base/status.h"
#include "engine/check_spec.h"
#include "loading/loader.h"
#include "values/value.h"

namespace dbuild::exec {

/// One partition key column and its value for the partition at hand. The value is never NULL.
struct KeyColumn {
  std::string name;
  Value value;
};

/// What writing (or fingerprinting) a partition found.
struct WriteResult {
  int64_t rows = 0;
  Hash128 fingerprint;                         // of the rows as a multiset, keys excluded
  uint64_t skipped_malformed = 0;              // load_partition with skip_malformed only
  std::vector<uint64_t> skipped_lines_sample;  // first lines skipped (at most kSkippedSample)
};

/// An input table as a query sees it: under the name `table`, only the listed partitions (or
/// all rows) of the stored table `source_table`. How the engine narrows it is its own affair
/// (SQLite and PostgreSQL: a temporary view that shadows the stored table).
struct InputView {
  std::string table;         // the name the query uses
  std::string source_table;  // the stored table read; empty: `table`
  std::vector<std::string> key_columns;          // the input's partition key columns
  bool all = false;                              // true: every row, partitions ignored
  std::vector<std::vector<Value>> partitions;    // key tuples, in key_columns order
};

/// A query that computes one partition of `table`.
struct QuerySpec {
  std::string table;
  std::vector<KeyColumn> keys;
  /// One read-only SELECT in the engine's dialect. Template values were replaced by
  /// Engine::placeholder(i, params[i]) for i = 0, 1, ...
  std::string sql;
  std::vector<Value> params;
  std::vector<InputView> inputs;
  std::vector<CheckSpec> checks;
};

/// What a query reads and returns, found by preparing it (nothing runs).
struct PreparedInfo {
  std::vector<std::string> columns;  // result column names, in order
  /// Their types in the engine's own names ("bigint", "Nullable(String)"), in the same order;
  /// empty when the engine does not type columns (SQLite).
  std::vector<std::string> column_types;
  /// Tables and views the SQL names directly (CTE names excluded), in first-use order.
  std::vector<std::string> tables;
  /// The tables actually read, at any depth: views expanded to the tables they read.
  std::vector<std::string> base_tables;
};

/// Where preparing SQL failed.
struct SqlError {
  std::string message;  // the engine's message (or dbuild's, for a rule it enforces)
  int offset = -1;      // byte offset in the SQL, when the engine knows it; -1 otherwise
};

/// Rows with named columns: fixture tables for `dbuild test`, and what run_select() returns.
struct RowSet {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
  /// create_scratch_table: each column's type in the engine's own names; empty (all, or one
  /// entry): the engine picks one that holds the values. run_select leaves it empty.
  std::vector<std::string> types;
};

/// A connection's settings, secrets resolved from the environment: what an engine's factory
/// takes (open_postgres, open_clickhouse).
struct ConnectionSettings {
  std::string name;                           // the connection's name in the rules
  std::map<std::string, std::string> values;  // host, port, database, user, password, ...
  std::set<std::string> secrets;              // keys whose values came from env(): never shown
};

/// One connection to an engine. Used by one thread at a time.
class EngineSession {
 public:
  virtual ~EngineSession() = default;

  /// Replaces partition `keys` of `table` with the rows of `file_path` read as `spec` says,
  /// creating the table (key columns, then the file's columns) or adding missing columns. On any
  /// error nothing changes; loader errors read "file:line:col: message".
  virtual Result<WriteResult> load_partition(const std::string& table, const std::vector<KeyColumn>& keys,
                                             const LoadSpec& spec, const std::string& file_path) = 0;

  /// Replaces partition q.keys of q.table with the rows of q.sql, then runs q.checks on them;
  /// all or nothing. The output table is created (key columns + result columns) or widened. A
  /// result column named like a key column is an error. If the query reads q.table itself, its
  /// rows are computed before the old partition is deleted.
  virtual Result<WriteResult> write_query_partition(const QuerySpec& q) = 0;

  /// The fingerprint and row count of a stored partition; equals what its write returned.
  /// Fails if the table does not exist.
  virtual Result<WriteResult> fingerprint_partition(const std::string& table,
                                                    const std::vector<KeyColumn>& keys) = 0;
  /// Deletes the partition's rows (nothing to do if the table does not exist).
  virtual Status delete_partition(const std::string& table, const std::vector<KeyColumn>& keys) = 0;
  virtual Result<bool> table_exists(const std::string& table) = 0;
  /// The distinct key tuples in the table, sorted. Fails if the table does not exist.
  virtual Result<std::vector<std::vector<Value>>> list_partitions(
      const std::string& table, const std::vector<std::string>& key_columns) = 0;
  /// How many rows have NULL in `column`. Fails if the table does not exist.
  virtual Result<int64_t> count_nulls(const std::string& table, const std::string& column) = 0;
  /// Column names in order; empty if the table does not exist.
  virtual Result<std::vector<std::string>> table_columns(const std::string& table) = 0;

  /// Prepares `sql` without running it or changing anything: result columns and tables read.
  /// Fails if it is not a single read-only statement returning columns; *error (if given) gets
  /// the engine's message and, when known, the byte offset.
  virtual Result<PreparedInfo> prepare(const std::string& sql, SqlError* error = nullptr) = 0;

  /// Creates a table private to this session (it vanishes with it) that shadows any stored
  /// table of the same name for this session's queries: fixtures for `test`, and empty tables of
  /// the right shape for preparing queries in `check`. Values keep their types.
  virtual Status create_scratch_table(const std::string& name, const RowSet& rows) = 0;
  /// Runs a read-only query and returns its rows (for `test`). params as in QuerySpec.
  virtual Result<RowSet> run_select(const std::string& sql, const std::vector<Value>& params) = 0;
};

/// An engine instance: a warehouse file, a server, a cluster.
class Engine {
 public:
  virtual ~Engine() = default;

  /// "sqlite", "postgres", "clickhouse".
  virtual std::string kind() const = 0;
  /// For people: the warehouse file, or host:port/database — never a secret.
  virtual std::string describe() const = 0;
  /// How many sessions may write partitions at once; 0: as many as the build's jobs.
  virtual int max_writers() const = 0;
  /// True when a write that fails leaves the old rows exactly (one transaction). False when a
  /// failure may leave a partition half replaced (ClickHouse swaps shard by shard): the
  /// evaluator then keeps the partition marked in flight, so the next build compares its data
  /// with the record and redoes it if it changed (docs/architecture.md, Build protocol).
  virtual bool atomic_writes() const { return true; }
  /// False when the engine certainly holds no table of dbuild's yet (an embedded warehouse file
  /// that does not exist), so read-only commands need not connect or create anything.
  virtual bool may_have_data() const { return true; }

  /// A session for reading and writing stored partitions.
  virtual Result<std::unique_ptr<EngineSession>> open() = 0;
  /// A session for `check` and `test`: its writes (scratch tables) are never stored, and it
  /// works without any stored table.
  virtual Result<std::unique_ptr<EngineSession>> open_scratch() = 0;

  /// The SQL text that stands for template value `index` (0-based) whose value is `v`: a bound
  /// parameter ("?1" on SQLite, "$1" on PostgreSQL) or, where the engine cannot bind, a quoted
  /// literal. Never splices unquoted text into SQL.
  virtual std::string placeholder(size_t index, const Value& v) const = 0;

  /// The engine's type for a column of type `t` (a loaded column; key columns are Int for
  /// integer keys and String for the others), as create_scratch_table takes it; "" when the
  /// engine does not type columns.
  virtual std::string column_type(ColumnType t) const {
    (void)t;
    return "";
  }

  /// Advice to print under `message`, an error this engine returned, when it means the engine's
  /// storage is damaged (e.g. a corrupt warehouse file); "" otherwise.
  virtual std::string damage_hint(const std::string& message) const {
    (void)message;
    return "";
  }
};

}  // namespace dbuild::exec
