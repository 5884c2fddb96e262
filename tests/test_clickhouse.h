#pragma once
/// The ClickHouse cluster that ClickHouse engine tests run against.
///
/// With DBUILD_TEST_CH_SHARDS and DBUILD_TEST_CH_CLUSTER set (CI starts one cluster for the
/// whole run with `eval "$(scripts/clickhouse start DIR)"`), tests use that cluster. Otherwise the
/// first call starts a private two-shard cluster for this test process (scripts/clickhouse start
/// in a temporary directory), stopped when the process exits. A cluster that cannot start makes
/// the calling test FAIL, never skip.
#include <string>
#include <vector>

#include "engine/engine.h"

namespace dbuild::testing {

/// Settings for open_clickhouse: shards, cluster, database "default"; no user or password.
exec::ConnectionSettings clickhouse_settings();

/// The password of the cluster's user `dbuild_pw` (see scripts/clickhouse).
std::string clickhouse_password();

/// The shards' host:http_port, in order.
std::vector<std::string> clickhouse_shards();

/// A database of its own for one test, "t_<pid>_<n>", created on every shard and dropped on
/// destruction; settings() points at it.
class ClickhouseTestDb {
 public:
  ClickhouseTestDb();
  ~ClickhouseTestDb();
  ClickhouseTestDb(const ClickhouseTestDb&) = delete;
  ClickhouseTestDb& operator=(const ClickhouseTestDb&) = delete;
  const std::string& name() const { return name_; }
  exec::ConnectionSettings settings() const;
  /// Runs `sql` on shard `i` (0-based) over HTTP; the response body, trimmed ("ERROR: ..." on
  /// failure).
  std::string on_shard(size_t i, const std::string& sql) const;

 private:
  std::string name_;
};

}  // namespace dbuild::testing
