#pragma once
/// ClickhouseSession: one session of the ClickHouse cluster engine (clickhouse_engine.h has the
/// layout, the write protocol and the fingerprint definition). Internal to engine/clickhouse.
#include <memory>
#include <string>
#include <vector>

#include "engine/clickhouse/clickhouse_text.h"
#include "engine/clickhouse/http_client.h"
#include "engine/engine.h"

namespace dbuild::exec {

/// The engine's settings, checked.
struct ClickhouseConfig {
  std::vector<std::string> shards;  // host:http_port
  std::string cluster;
  std::string database = "default";
  std::string user;
  std::string password;
  std::vector<std::string> secrets;  // every secret value of the settings
};

/// A column of a stored or staged table.
struct ChColumn {
  std::string name;
  std::string type;
};

/// One session: an HTTP client per shard, and a private database for views and scratch tables
/// (created on first use on the first shard, dropped with the session).
class ClickhouseSession : public EngineSession {
 public:
  static Result<std::unique_ptr<ClickhouseSession>> open(const ClickhouseConfig& config, bool scratch);
  ~ClickhouseSession() override;

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

  // ---- Used by the write and check code (clickhouse_write.cc, clickhouse_checks.cc). ----
  const ClickhouseConfig& config() const { return config_; }
  size_t shard_count() const { return shards_.size(); }
  HttpClient& shard(size_t i) { return *shards_[i]; }
  /// Runs `sql` on every shard; stops at the first error.
  Status on_every_shard(const std::string& sql);
  /// Runs a SELECT on the first shard (default database: `database`, or the stored one);
  /// `readonly`: with the setting readonly=2 (no writes).
  Result<TsvTable> select(const std::string& sql, const std::string& database = "",
                          bool readonly = false);
  /// The session's private database, created on first use.
  Result<std::string> private_database();
  /// Columns of db.table on the first shard (empty when there is none).
  Result<std::vector<ChColumn>> columns_of(const std::string& table, size_t shard = 0);
  /// The fingerprint of the rows of `table` (a Distributed table) where `where` holds.
  Result<WriteResult> fingerprint_where(const std::string& table, const std::string& where,
                                        const std::vector<std::string>& key_columns);
  /// A fresh name part for staging tables and private databases: "<unix seconds>_<pid>_<random>_<n>".
  std::string fresh_id();
  /// Drops, once per session, staging tables and private databases more than a day old: what
  /// killed processes left (a live write is never that old... unless it runs for a day).
  void sweep_stale();

 private:
  ClickhouseSession(ClickhouseConfig config, bool scratch);
  /// Creates in the private database a view over every stored table it has no table or view
  /// of the same name for, so queries run there still see the stored tables.
  Status expose_stored_tables();
  /// Adds to *out the tables `name` reads (itself, or what its view reads, at any depth);
  /// unqualified names are in `db`.
  Status add_base_tables(const std::string& name, const std::string& db, int depth,
                         std::vector<std::string>* out);

  ClickhouseConfig config_;
  bool scratch_;
  std::vector<std::unique_ptr<HttpClient>> shards_;
  std::string private_db_;  // "" until created
  std::vector<std::string> scratch_tables_;
  bool swept_ = false;
};

/// The local table behind the Distributed table `table`.
std::string ch_local_name(const std::string& table);
/// `k1 = lit AND k2 = lit` (1 when there are no keys).
std::string ch_key_predicate(const std::vector<KeyColumn>& keys);
/// The partition expression of `keys`: tuple(), or (lit, ...) / tuple(lit).
std::string ch_partition_expr(const std::vector<KeyColumn>& keys);
/// Fails on a NULL key or a repeated key name.
Status ch_check_keys(const std::vector<KeyColumn>& keys);
/// "table `x` does not exist".
Status ch_no_such_table(const std::string& table);

}  // namespace dbuild::exec
