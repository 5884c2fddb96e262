#include "engine/clickhouse/clickhouse_write.h"

#include <csignal>
#include <cstdlib>

#include <fmt/format.h>

namespace dbuild::exec {

namespace {

std::string key_tuple(const std::vector<KeyColumn>& keys) {
  if (keys.empty()) return "tuple()";
  std::vector<std::string> names;
  for (const KeyColumn& k : keys) names.push_back(ch_ident(k.name));
  return fmt::format("({})", fmt::join(names, ", "));
}

bool has_column(const std::vector<ChColumn>& cols, const std::string& name) {
  for (const ChColumn& c : cols) {
    if (c.name == name) return true;
  }
  return false;
}

Status create_pair(ClickhouseSession& s, size_t shard, const std::string& table,
                   const std::vector<KeyColumn>& keys, const std::vector<ChColumn>& data) {
  const ClickhouseConfig& c = s.config();
  std::vector<std::string> defs;
  for (const KeyColumn& k : keys) defs.push_back(ch_ident(k.name) + " " + ch_key_type(k.value));
  for (const ChColumn& d : data) defs.push_back(ch_ident(d.name) + " " + d.type);
  std::string local = ch_table(c.database, ch_local_name(table));
  Result<std::string> r = s.shard(shard).query(fmt::format(
      "CREATE TABLE IF NOT EXISTS {} ({}) ENGINE = MergeTree PARTITION BY {} ORDER BY {}", local,
      fmt::join(defs, ", "), key_tuple(keys), key_tuple(keys)));
  if (!r.ok()) return r.status();
  r = s.shard(shard).query(fmt::format(
      "CREATE TABLE IF NOT EXISTS {} AS {} ENGINE = Distributed({}, {}, {}, rand())",
      ch_table(c.database, table), local, ch_ident(c.cluster), ch_ident(c.database),
      ch_ident(ch_local_name(table))));
  return r.ok() ? Status::Ok() : r.status();
}

/// Adds the columns of `data` that `name` (on `shard`) lacks.
Status widen(ClickhouseSession& s, size_t shard, const std::string& name, const std::vector<ChColumn>& data) {
  Result<std::vector<ChColumn>> have = s.columns_of(name, shard);
  if (!have.ok()) return have.status();
  for (const ChColumn& d : data) {
    if (has_column(*have, d.name)) continue;
    Result<std::string> r = s.shard(shard).query(fmt::format(
        "ALTER TABLE {} ADD COLUMN {} {}", ch_table(s.config().database, name), ch_ident(d.name), d.type));
    if (!r.ok()) {
      // Another writer may have added it meanwhile (18.16 has no ADD COLUMN IF NOT EXISTS).
      Result<std::vector<ChColumn>> now = s.columns_of(name, shard);
      if (!now.ok() || !has_column(*now, d.name)) return r.status();
    }
  }
  return Status::Ok();
}

/// The test hook DBUILD_TEST_CH_FAIL_AFTER_SHARDS (clickhouse_engine.h): 0 when unset.
size_t fail_after_shards() {
  const char* v = std::getenv("DBUILD_TEST_CH_FAIL_AFTER_SHARDS");
  return v ? std::strtoul(v, nullptr, 10) : 0;
}

}  // namespace

Status ch_check_clash(const std::vector<ChColumn>& data, const std::vector<KeyColumn>& keys) {
  for (size_t i = 0; i < data.size(); ++i) {
    for (const KeyColumn& k : keys) {
      if (data[i].name == k.name) {
        return Status::Error(fmt::format("column `{}` clashes with the partition key; dbuild fills "
                                         "key columns — remove it from the SELECT",
                                         k.name));
      }
    }
    for (size_t j = 0; j < i; ++j) {
      if (data[j].name == data[i].name) {
        return Status::Error(fmt::format(
            "column `{}` appears twice; give each column its own name (AS ...)", data[i].name));
      }
    }
  }
  return Status::Ok();
}

Status ch_ensure_table(ClickhouseSession& s, const std::string& table, const std::vector<KeyColumn>& keys,
                    const std::vector<ChColumn>& data) {
  for (size_t i = 0; i < s.shard_count(); ++i) {
    Result<std::vector<ChColumn>> have = s.columns_of(ch_local_name(table), i);
    if (!have.ok()) return have.status();
    for (const KeyColumn& k : keys) {
      if (!have->empty() && !has_column(*have, k.name)) {
        return Status::Error(fmt::format("table `{}` has no key column `{}`", table, k.name));
      }
    }
    Status st = create_pair(s, i, table, keys, data);
    if (st.ok()) st = widen(s, i, ch_local_name(table), data);
    if (st.ok()) st = widen(s, i, table, data);
    if (!st.ok()) return Status::Error(fmt::format("creating table `{}`: {}", table, st.message()));
  }
  return Status::Ok();
}

ChStaging::~ChStaging() {
  if (!created_) return;
  const std::string& db = s_.config().database;
  (void)s_.shard(0).cleanup("DROP TABLE IF EXISTS " + ch_table(db, dist_));
  for (size_t i = 0; i < s_.shard_count(); ++i) {
    (void)s_.shard(i).cleanup("DROP TABLE IF EXISTS " + ch_table(db, local_));
  }
}

Status ChStaging::create(const std::string& table) {
  const ClickhouseConfig& c = s_.config();
  s_.sweep_stale();
  dist_ = "__dbuild_stage_" + s_.fresh_id();
  local_ = dist_ + "_local";
  created_ = true;
  Status st = s_.on_every_shard(fmt::format("CREATE TABLE {} AS {}", ch_table(c.database, local_),
                                            ch_table(c.database, ch_local_name(table))));
  if (!st.ok()) return st;
  Result<std::string> r = s_.shard(0).query(fmt::format(
      "CREATE TABLE {} AS {} ENGINE = Distributed({}, {}, {}, rand())", ch_table(c.database, dist_),
      ch_table(c.database, local_), ch_ident(c.cluster), ch_ident(c.database), ch_ident(local_)));
  return r.ok() ? Status::Ok() : r.status();
}

Result<WriteResult> ChStaging::swap_into(const std::string& table, const std::vector<KeyColumn>& keys) {
  std::vector<std::string> key_names;
  for (const KeyColumn& k : keys) key_names.push_back(k.name);
  Result<WriteResult> result = s_.fingerprint_where(dist_, "1", key_names);
  if (!result.ok()) return result;
  const std::string& db = s_.config().database;
  size_t fail_after = fail_after_shards();
  for (size_t i = 0; i < s_.shard_count(); ++i) {
    Result<std::string> r = s_.shard(i).query(
        fmt::format("ALTER TABLE {} REPLACE PARTITION {} FROM {}", ch_table(db, ch_local_name(table)),
                    ch_partition_expr(keys), ch_table(db, local_)));
    if (!r.ok()) {
      return Status::Error(fmt::format("swapping the new partition of `{}` in ({} of {} shards "
                                       "done): {}",
                                       table, i, s_.shard_count(), r.status().message()));
    }
    if (fail_after != 0 && i + 1 == fail_after) {
      if (std::getenv("DBUILD_TEST_CH_KILL")) ::raise(SIGKILL);  // a kill there, the hard way
      return Status::Error(fmt::format("DBUILD_TEST_CH_FAIL_AFTER_SHARDS: stopped after {} of {} shards",
                                       i + 1, s_.shard_count()));
    }
  }
  return result;
}

}  // namespace dbuild::exec
