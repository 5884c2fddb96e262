#pragma once
/// Small RAII helpers over the SQLite C API used by the engine: statements, transactions, quoting,
/// binding Values. Identifiers are always quoted with quote_ident(); values are always bound.
/// Objects here belong to one connection and are used by one thread at a time.
#include <sqlite3.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "values/value.h"

namespace dbuild::exec {

/// "name" with embedded double quotes doubled: safe for any table or column name.
std::string quote_ident(std::string_view name);

/// "what: <sqlite's message for db>".
Status sqlite_error(sqlite3* db, std::string_view what);

/// Runs SQL that binds no values (DDL, BEGIN, PRAGMA). May hold several statements.
Status exec_sql(sqlite3* db, const std::string& sql);

/// A prepared statement, finalized on destruction. Movable, not copyable.
class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& other) noexcept : st_(other.st_) { other.st_ = nullptr; }
  Stmt& operator=(Stmt&& other) noexcept;
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  /// Prepares the first statement of `sql` (our own SQL: no authorizer, tail ignored).
  static Result<Stmt> prepare(sqlite3* db, std::string_view sql);
  /// Takes ownership of an already prepared statement.
  explicit Stmt(sqlite3_stmt* st) : st_(st) {}

  sqlite3_stmt* get() const { return st_; }
  explicit operator bool() const { return st_ != nullptr; }

  /// Binds `v` to the 1-based parameter `index`. With copy == false, text must outlive the step.
  Status bind(int index, const Value& v, bool copy = true);
  /// One step: true for a row, false when done, an error otherwise.
  Result<bool> step();
  /// Steps until done (for statements without rows).
  Status run();
  /// Makes the statement ready to run again; bindings are kept.
  void reset() { sqlite3_reset(st_); }
  /// Column `i` of the current row (a blob becomes its bytes as text).
  Value column(int i) const;
  int column_count() const { return sqlite3_column_count(st_); }

 private:
  sqlite3_stmt* st_ = nullptr;
};

/// A write transaction (BEGIN IMMEDIATE): rolled back on destruction unless committed.
/// Statements stepped inside it must be reset or destroyed before commit().
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction() { rollback(); }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  /// Waits for the write lock up to the connection's busy timeout.
  Status begin();
  Status commit();
  /// Rolls back if a transaction is still open (no effect otherwise).
  void rollback();

 private:
  sqlite3* db_;
  bool open_ = false;
};

/// SQLite's column affinity, derived from a declared type by the rules of SQLite's datatype page.
enum class Affinity { Text, Numeric, Integer, Real, Blob };
Affinity affinity_of(std::string_view declared_type);

/// True when SQLite stores a value of storage class `type` (SQLITE_INTEGER...) into a column of
/// affinity `a` without converting it: then the value read back is the value written.
bool stored_unchanged(Affinity a, int type);

/// ASCII case-insensitive equality, as SQLite compares identifiers.
bool same_ident(std::string_view a, std::string_view b);

}  // namespace dbuild::exec
