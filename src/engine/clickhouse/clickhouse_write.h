#pragma once
/// The write protocol of the ClickHouse engine (clickhouse_engine.h): the table pair, the staging
/// pair, and the per-shard swap. Internal to engine/clickhouse.
#include <string>
#include <vector>

#include "engine/clickhouse/clickhouse_session.h"

namespace dbuild::exec {

/// Creates the table pair of `table` on every shard (key columns, then `data`), or adds the
/// columns of `data` it lacks; fails when a key column is missing from an existing table.
Status ch_ensure_table(ClickhouseSession& s, const std::string& table, const std::vector<KeyColumn>& keys,
                    const std::vector<ChColumn>& data);

/// A staging pair shaped like `table`'s local table: the local table on every shard and a
/// Distributed table over them on the first shard. Dropped on destruction.
class ChStaging {
 public:
  explicit ChStaging(ClickhouseSession& s) : s_(s) {}
  ~ChStaging();
  ChStaging(const ChStaging&) = delete;
  ChStaging& operator=(const ChStaging&) = delete;

  Status create(const std::string& table);
  const std::string& distributed() const { return dist_; }  // name in the stored database
  const std::string& local() const { return local_; }

  /// The staged rows' fingerprint, then the swap into `table` on every shard.
  Result<WriteResult> swap_into(const std::string& table, const std::vector<KeyColumn>& keys);

 private:
  ClickhouseSession& s_;
  std::string dist_, local_;
  bool created_ = false;
};

/// "`name` clashes with the partition key" when a data column is named like a key column.
Status ch_check_clash(const std::vector<ChColumn>& data, const std::vector<KeyColumn>& keys);

}  // namespace dbuild::exec
