#include "engine/clickhouse/clickhouse_session.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <random>

#include <fmt/format.h>

#include "base/hash.h"

namespace dbuild::exec {

std::string ch_local_name(const std::string& table) { return "__dbuild_local_" + table; }

std::string ch_key_predicate(const std::vector<KeyColumn>& keys) {
  if (keys.empty()) return "1";
  std::vector<std::string> parts;
  for (const KeyColumn& k : keys) parts.push_back(ch_ident(k.name) + " = " + ch_literal(k.value));
  return fmt::format("{}", fmt::join(parts, " AND "));
}

std::string ch_partition_expr(const std::vector<KeyColumn>& keys) {
  std::vector<std::string> lits;
  for (const KeyColumn& k : keys) lits.push_back(ch_literal(k.value));
  if (lits.empty()) return "tuple()";
  if (lits.size() == 1) return "tuple(" + lits[0] + ")";
  return fmt::format("({})", fmt::join(lits, ", "));
}

Status ch_check_keys(const std::vector<KeyColumn>& keys) {
  for (size_t i = 0; i < keys.size(); ++i) {
    if (is_null(keys[i].value)) {
      return Status::Error(fmt::format("partition key `{}` is NULL", keys[i].name));
    }
    for (size_t j = 0; j < i; ++j) {
      if (keys[j].name == keys[i].name) {
        return Status::Error(fmt::format("partition key `{}` is given twice", keys[i].name));
      }
    }
  }
  return Status::Ok();
}

Status ch_no_such_table(const std::string& table) {
  return Status::Error(fmt::format("table `{}` does not exist", table));
}

ClickhouseSession::ClickhouseSession(ClickhouseConfig config, bool scratch)
    : config_(std::move(config)), scratch_(scratch) {}

Result<std::unique_ptr<ClickhouseSession>> ClickhouseSession::open(const ClickhouseConfig& config,
                                                                   bool scratch) {
  std::unique_ptr<ClickhouseSession> s(new ClickhouseSession(config, scratch));
  for (const std::string& host : config.shards) {
    Result<std::unique_ptr<HttpClient>> c =
        HttpClient::create({host, config.user, config.password}, config.secrets);
    if (!c.ok()) return c.status();
    s->shards_.push_back(std::move(*c));
  }
  return s;
}

ClickhouseSession::~ClickhouseSession() {
  if (!private_db_.empty()) (void)shards_[0]->cleanup("DROP DATABASE IF EXISTS " + ch_ident(private_db_));
}

std::string ClickhouseSession::fresh_id() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t seed = std::random_device{}() ^ (uint64_t(std::random_device{}()) << 32);
  return fmt::format("{}_{:x}_{:x}_{}", static_cast<int64_t>(std::time(nullptr)),
                     static_cast<uint32_t>(::getpid()), seed & 0xffffffffffULL, counter.fetch_add(1));
}

namespace {

constexpr int64_t kStaleSeconds = 24 * 3600;

/// Whether `name` is `prefix` + a fresh_id() made more than a day ago.
bool is_stale(const std::string& name, const std::string& prefix) {
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  size_t end = name.find('_', prefix.size());
  if (end == std::string::npos || end == prefix.size()) return false;
  std::string digits = name.substr(prefix.size(), end - prefix.size());
  if (digits.find_first_not_of("0123456789") != std::string::npos) return false;
  return std::atoll(digits.c_str()) < static_cast<int64_t>(std::time(nullptr)) - kStaleSeconds;
}

}  // namespace

void ClickhouseSession::sweep_stale() {
  if (swept_) return;
  swept_ = true;
  for (size_t i = 0; i < shards_.size(); ++i) {
    Result<std::string> body = shards_[i]->query(fmt::format(
        "SELECT name FROM system.tables WHERE database = {} AND name LIKE '__dbuild_stage_%' "
        "FORMAT TabSeparatedWithNamesAndTypes",
        ch_string(config_.database)));
    Result<TsvTable> t = body.ok() ? parse_tsv_with_types(*body) : Result<TsvTable>(body.status());
    if (!t.ok()) continue;
    for (const std::vector<std::string>& row : t->rows) {
      if (is_stale(row[0], "__dbuild_stage_")) {
        (void)shards_[i]->cleanup("DROP TABLE IF EXISTS " + ch_table(config_.database, row[0]));
      }
    }
  }
  Result<std::string> body = shards_[0]->query(
      "SELECT name FROM system.databases WHERE name LIKE '__dbuild_tmp_%' FORMAT TabSeparatedWithNamesAndTypes");
  Result<TsvTable> t = body.ok() ? parse_tsv_with_types(*body) : Result<TsvTable>(body.status());
  if (!t.ok()) return;
  for (const std::vector<std::string>& row : t->rows) {
    if (is_stale(row[0], "__dbuild_tmp_")) (void)shards_[0]->cleanup("DROP DATABASE IF EXISTS " + ch_ident(row[0]));
  }
}

Status ClickhouseSession::on_every_shard(const std::string& sql) {
  for (auto& s : shards_) {
    Result<std::string> r = s->query(sql);
    if (!r.ok()) return r.status();
  }
  return Status::Ok();
}

Result<TsvTable> ClickhouseSession::select(const std::string& sql, const std::string& database,
                                           bool readonly) {
  HttpSettings settings{{"database", database.empty() ? config_.database : database}};
  if (readonly) settings["readonly"] = "2";
  Result<std::string> body = shards_[0]->query(sql + "\nFORMAT TabSeparatedWithNamesAndTypes", settings);
  if (!body.ok()) return body.status();
  return parse_tsv_with_types(*body);
}

Result<std::string> ClickhouseSession::private_database() {
  if (!private_db_.empty()) return private_db_;
  std::string name = "__dbuild_tmp_" + fresh_id();
  Result<std::string> r = shards_[0]->query("CREATE DATABASE " + ch_ident(name));
  if (!r.ok()) return r.status();
  private_db_ = name;
  return private_db_;
}

Result<std::vector<ChColumn>> ClickhouseSession::columns_of(const std::string& table, size_t shard) {
  Result<std::string> body = shards_[shard]->query(fmt::format(
      "SELECT name, type FROM system.columns WHERE database = {} AND table = {} "
      "FORMAT TabSeparatedWithNamesAndTypes",
      ch_string(config_.database), ch_string(table)));
  if (!body.ok()) return body.status();
  Result<TsvTable> t = parse_tsv_with_types(*body);
  if (!t.ok()) return t.status();
  std::vector<ChColumn> out;
  for (const auto& row : t->rows) out.push_back({row[0], row[1]});
  return out;
}

Result<bool> ClickhouseSession::table_exists(const std::string& table) {
  Result<TsvTable> t = select(fmt::format(
      "SELECT count() FROM system.tables WHERE database = {} AND name = {}",
      ch_string(config_.database), ch_string(table)));
  if (!t.ok()) return t.status();
  return !t->rows.empty() && t->rows[0][0] != "0";
}

Result<std::vector<std::string>> ClickhouseSession::table_columns(const std::string& table) {
  Result<std::vector<ChColumn>> cols = columns_of(table);
  if (!cols.ok()) return cols.status();
  std::vector<std::string> names;
  for (const ChColumn& c : *cols) names.push_back(c.name);
  return names;
}

Result<std::vector<std::vector<Value>>> ClickhouseSession::list_partitions(
    const std::string& table, const std::vector<std::string>& key_columns) {
  Result<bool> exists = table_exists(table);
  if (!exists.ok()) return exists.status();
  if (!*exists) return ch_no_such_table(table);
  std::vector<std::vector<Value>> out;
  if (key_columns.empty()) return out;
  std::vector<std::string> q;
  for (const std::string& k : key_columns) q.push_back(ch_ident(k));
  std::string cols = fmt::format("{}", fmt::join(q, ", "));
  Result<TsvTable> t = select(fmt::format("SELECT DISTINCT {0} FROM {1} ORDER BY {0}", cols,
                                          ch_table(config_.database, table)));
  if (!t.ok()) return t.status();
  for (size_t r = 0; r < t->rows.size(); ++r) {
    std::vector<Value>& tuple = out.emplace_back();
    for (size_t i = 0; i < t->types.size(); ++i) {
      tuple.push_back(ch_value(t->types[i], t->rows[r][i], t->nulls[r][i]));
    }
  }
  return out;
}

Result<int64_t> ClickhouseSession::count_nulls(const std::string& table, const std::string& column) {
  Result<bool> exists = table_exists(table);
  if (!exists.ok()) return exists.status();
  if (!*exists) return ch_no_such_table(table);
  Result<TsvTable> t = select(fmt::format("SELECT countIf(isNull({})) FROM {}", ch_ident(column),
                                          ch_table(config_.database, table)));
  if (!t.ok()) return t.status();
  return std::get<int64_t>(ch_value("UInt64", t->rows.at(0).at(0), false));
}

Status ClickhouseSession::delete_partition(const std::string& table, const std::vector<KeyColumn>& keys) {
  if (Status s = ch_check_keys(keys); !s.ok()) return s;
  for (size_t i = 0; i < shards_.size(); ++i) {
    Result<std::vector<ChColumn>> cols = columns_of(ch_local_name(table), i);
    if (!cols.ok()) return cols.status();
    if (cols->empty()) continue;
    Result<std::string> r = shards_[i]->query(
        fmt::format("ALTER TABLE {} DROP PARTITION {}",
                    ch_table(config_.database, ch_local_name(table)), ch_partition_expr(keys)));
    if (!r.ok()) return r.status();
  }
  return Status::Ok();
}

namespace {

/// The canonical text of one column's value in a row (see clickhouse_engine.h).
std::string column_part(const ChColumn& c) {
  std::string base = ch_base_type(c.type);
  std::string v = base.rfind("Float", 0) == 0 ? fmt::format("toString({} + 0)", ch_ident(c.name))
                                              : fmt::format("toString({})", ch_ident(c.name));
  std::string name = fmt::format("{}:{}=", c.name.size(), c.name);
  return fmt::format("ifNull(concat({}, toString(length({})), ':', {}), '')", ch_string(name), v, v);
}

}  // namespace

Result<WriteResult> ClickhouseSession::fingerprint_where(const std::string& table, const std::string& where,
                                                         const std::vector<std::string>& key_columns) {
  Result<std::vector<ChColumn>> cols = columns_of(table);
  if (!cols.ok()) return cols.status();
  if (cols->empty()) return ch_no_such_table(table);
  std::vector<std::string> parts = {"''", "''"};
  // Name order, not table order: the local and Distributed tables of every shard agree on it
  // even if a widening was interrupted between them.
  std::sort(cols->begin(), cols->end(), [](const ChColumn& a, const ChColumn& b) { return a.name < b.name; });
  for (const ChColumn& c : *cols) {
    if (std::find(key_columns.begin(), key_columns.end(), c.name) != key_columns.end()) continue;
    parts.push_back(column_part(c));
  }
  Result<TsvTable> t = select(fmt::format(
      "SELECT count(), sum(cityHash64(r)), sum(sipHash64(r)) FROM "
      "(SELECT concat({}) AS r FROM {} WHERE {})",
      fmt::join(parts, ", "), ch_table(config_.database, table), where));
  if (!t.ok()) return t.status();
  const std::vector<std::string>& row = t->rows.at(0);
  uint64_t count = std::strtoull(row[0].c_str(), nullptr, 10);
  Hasher h;
  h.add("dbuild.clickhouse.rows.v1").add(count);
  h.add(static_cast<uint64_t>(std::strtoull(row[1].c_str(), nullptr, 10)));
  h.add(static_cast<uint64_t>(std::strtoull(row[2].c_str(), nullptr, 10)));
  WriteResult result;
  result.rows = static_cast<int64_t>(count);
  result.fingerprint = h.finish();
  return result;
}

Result<WriteResult> ClickhouseSession::fingerprint_partition(const std::string& table,
                                                             const std::vector<KeyColumn>& keys) {
  if (Status s = ch_check_keys(keys); !s.ok()) return s;
  std::vector<std::string> key_names;
  for (const KeyColumn& k : keys) key_names.push_back(k.name);
  return fingerprint_where(table, ch_key_predicate(keys), key_names);
}

}  // namespace dbuild::exec
