#pragma once
/// Internal to the PostgreSQL engine: one libpq connection (PgConn), its results (PgResult) and
/// transactions (PgTxn). Only engine/postgres (and its tests) include this header and libpq.
///
/// Every statement is sent with PQsendQueryParams and waited for in short polls, so that a
/// SIGINT/SIGTERM (base/interrupt.h) cancels the running statement (PQcancel); the caller's
/// PgTxn then rolls the transaction back. Errors carry the server's primary message, detail and
/// hint — never the connection settings — and every secret setting's value is scrubbed from
/// them anyway.
#include <libpq-fe.h>

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/engine.h"
#include "values/value.h"

namespace dbuild::exec::pg {

/// A PGresult, freed on destruction. Text format: every field is read as text.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
  PGresult* get() const { return r_.get(); }
  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  int cols() const { return r_ ? PQnfields(r_.get()) : 0; }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col), PQgetlength(r_.get(), row, col));
  }
  int64_t int64(int row, int col) const;
  std::string name(int col) const { return PQfname(r_.get(), col); }
  /// The field as a Value by its column type: integers int64, floats and numeric double, bool
  /// 1/0, NULL monostate, everything else its text (dates 'YYYY-MM-DD').
  Value value(int row, int col) const;

 private:
  std::shared_ptr<PGresult> r_;
};

/// Parameters as libpq takes them: text values, NULLs as null pointers, type OIDs (0: the
/// server infers the type from the context).
struct PgParams {
  std::vector<std::string> text;
  std::vector<bool> null;
  std::vector<Oid> types;

  void add(const Value& v, Oid type = 0);
  size_t size() const { return text.size(); }
};

/// A value's text as PostgreSQL reads it: 42, 1.5 (shortest exact form), the string as is.
std::string value_text(const Value& v);

/// "name" with embedded double quotes doubled.
std::string quote_ident(const std::string& name);

/// One connection. Used by one thread at a time.
class PgConn {
 public:
  /// Connects with settings host, port, database, user, password and sets the session up:
  /// search_path = schema, UTC, ISO dates, notices silenced.
  static Result<std::unique_ptr<PgConn>> connect(const ConnectionSettings& settings,
                                                 const std::string& schema);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  /// Runs one statement (never more: the extended protocol refuses a second); fails unless it
  /// succeeds (commands and queries alike). Interruptible
  /// unless `interruptible` is false (ROLLBACK, COMMIT).
  Result<PgResult> exec(const std::string& sql, const PgParams& params = {},
                        bool interruptible = true);
  /// Prepares `sql` as the unnamed statement (nothing runs). On failure *position (if given)
  /// gets the server's error position as in result_error.
  Status prepare(const std::string& sql, int* position = nullptr);
  /// Describes the unnamed statement: result columns (PQfname) and parameter types (PQparamtype).
  Result<PgResult> describe();
  /// Sends a COPY ... FROM STDIN; on success the connection is in COPY IN state.
  Status copy_start(const std::string& sql);
  /// Sends COPY data (buffered by libpq).
  Status copy_data(const std::string& data);
  /// Ends the COPY: with `error` non-empty, aborts it (the statement fails); returns the
  /// COPY's outcome.
  Status copy_end(const std::string& error = "");

  /// The error for a failed result: "postgres: message (detail) hint", secrets scrubbed.
  /// *position (if given) gets PG_DIAG_STATEMENT_POSITION (1-based characters) or 0.
  std::string result_error(PGresult* r, int* position = nullptr) const;
  /// `message` with every secret setting's value replaced by "***".
  std::string scrub(std::string message) const;

  /// A string literal for SQL text ('it''s'), quoted for this connection.
  std::string literal(const std::string& s) const;
  /// A literal for a key value: an integer or a double as is, text quoted.
  std::string literal(const Value& v) const;

  const std::string& schema() const { return schema_; }
  /// `"schema"."table"`.
  std::string qualified(const std::string& table) const;

 private:
  PgConn(PGconn* conn, std::string schema, std::vector<std::string> secrets);
  /// Waits for the pending statement's results, cancelling it on interrupt; the first error wins.
  Result<PgResult> wait(bool interruptible, int* position = nullptr);
  Status connection_error(const std::string& what) const;

  PGconn* conn_;
  std::string schema_;
  std::vector<std::string> secrets_;
};

/// A transaction: begun by begin(), rolled back on destruction unless committed.
class PgTxn {
 public:
  explicit PgTxn(PgConn& conn) : conn_(conn) {}
  ~PgTxn();
  PgTxn(const PgTxn&) = delete;
  PgTxn& operator=(const PgTxn&) = delete;

  Status begin(bool read_only = false);
  Status commit();
  void rollback();

 private:
  PgConn& conn_;
  bool open_ = false;
};

}  // namespace dbuild::exec::pg
