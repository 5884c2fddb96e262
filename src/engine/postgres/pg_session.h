#pragma once
/// Internal to the PostgreSQL engine: the EngineSession over one PgConn (postgres_engine.h
/// says what it does). Its methods are spread over postgres_engine.cc (tables),
/// pg_write.cc (partition writes) and pg_prepare.cc (prepare, scratch tables, run_select).
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/postgres/pg_conn.h"

namespace dbuild::exec::pg {

/// One connection to the server; `scratch` sessions never write stored tables.
class PgSession : public EngineSession {
 public:
  PgSession(std::unique_ptr<PgConn> conn, bool scratch) : conn_(std::move(conn)), scratch_(scratch) {}

  Result<WriteResult> load_partition(const std::string& table, const std::vector<KeyColumn>& keys,
                                     const LoadSpec& spec, const std::string& file_path) override;
  Result<WriteResult> write_query_partition(const QuerySpec& q) override;
  Result<WriteResult> fingerprint_partition(const std::string& table,
                                            const std::vector<KeyColumn>& keys) override;
  Status delete_partition(const std::string& table, const std::vector<KeyColumn>& keys) override;
  Result<bool> table_exists(const std::string& table) override;
  Result<std::vector<std::vector<Value>>> list_partitions(
      const std::string& table, const std::vector<std::string>& key_columns) override;
  Result<int64_t> count_nulls(const std::string& table, const std::string& column) override;
  Result<std::vector<std::string>> table_columns(const std::string& table) override;
  Result<PreparedInfo> prepare(const std::string& sql, SqlError* error = nullptr) override;
  Status create_scratch_table(const std::string& name, const RowSet& rows) override;
  Result<RowSet> run_select(const std::string& sql, const std::vector<Value>& params) override;

 private:
  /// Fails in a scratch session, which stores nothing.
  Status check_writable() const;
  /// Fails unless the stored table exists.
  Status require_table(const std::string& table);
  Result<WriteResult> write_query(const QuerySpec& q);
  Result<WriteResult> load(const std::string& table, const std::vector<KeyColumn>& keys,
                           const LoadSpec& spec, const std::string& file_path);
  /// Prepares `sql` (already trimmed) as a read-only query; *position gets the server's
  /// error position (1-based characters) on failure.
  Result<PreparedInfo> prepare_in_txn(const std::string& sql, int* position);
  Status read_tables(const std::string& sql, PreparedInfo& info);

  std::unique_ptr<PgConn> conn_;
  bool scratch_;
};

}  // namespace dbuild::exec::pg
