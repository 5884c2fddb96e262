#include "engine/postgres/postgres_engine.h"

#include <algorithm>

#include <fmt/format.h>

#include "engine/postgres/pg_conn.h"
#include "engine/postgres/pg_schema.h"
#include "engine/postgres/pg_session.h"

namespace dbuild::exec {

namespace pg {

namespace {

/// Writers at once: each is one server connection (and backend process).
constexpr int kMaxWriters = 8;

std::string setting(const ConnectionSettings& s, const std::string& key, const std::string& fallback = "") {
  auto it = s.values.find(key);
  return it == s.values.end() || it->second.empty() ? fallback : it->second;
}

/// A PostgreSQL database: settings only; every session is its own connection.
class PostgresEngine : public Engine {
 public:
  explicit PostgresEngine(ConnectionSettings settings)
      : settings_(std::move(settings)), schema_(setting(settings_, "schema", "public")) {}

  std::string kind() const override { return "postgres"; }
  std::string describe() const override {
    std::string where = fmt::format("postgres {}@{}:{}/{}", shown("user", "(default user)"),
                                    shown("host", "localhost"), shown("port", "5432"), shown("database", ""));
    if (schema_ != "public") where += " schema " + shown("schema", "");
    return where;
  }
  int max_writers() const override { return kMaxWriters; }

  Result<std::unique_ptr<EngineSession>> open() override { return session(false); }
  Result<std::unique_ptr<EngineSession>> open_scratch() override { return session(true); }

  std::string placeholder(size_t index, const Value&) const override {
    return fmt::format("${}", index + 1);
  }
  std::string column_type(ColumnType t) const override { return pg::column_type(t); }

 private:
  Result<std::unique_ptr<EngineSession>> session(bool scratch) {
    Result<std::unique_ptr<PgConn>> conn = PgConn::connect(settings_, schema_);
    if (!conn.ok()) {
      return Status::Error(fmt::format("connection `{}` ({}): {}", settings_.name, describe(),
                                       conn.status().message()));
    }
    return std::unique_ptr<EngineSession>(new PgSession(std::move(*conn), scratch));
  }

  /// A setting for people: "***" when it came from a secret.
  std::string shown(const std::string& key, const std::string& fallback) const {
    return settings_.secrets.count(key) ? "***" : setting(settings_, key, fallback);
  }

  ConnectionSettings settings_;
  std::string schema_;
};

Status no_such_table(const std::string& table) {
  return Status::Error(fmt::format("table `{}` does not exist", table));
}

/// Orders key tuples: integers by value before text, text by bytes (as SQLite sorts them).
bool value_less(const Value& a, const Value& b) {
  if (a.index() != b.index()) return a.index() < b.index();
  if (auto* i = std::get_if<int64_t>(&a)) return *i < std::get<int64_t>(b);
  if (auto* d = std::get_if<double>(&a)) return *d < std::get<double>(b);
  if (auto* s = std::get_if<std::string>(&a)) return *s < std::get<std::string>(b);
  return false;
}

}  // namespace

Status PgSession::check_writable() const {
  if (!scratch_) return Status::Ok();
  return Status::Error("a scratch session stores no partitions");
}

Status PgSession::require_table(const std::string& table) {
  Result<bool> exists = table_exists(table);
  if (!exists.ok()) return exists.status();
  return *exists ? Status::Ok() : no_such_table(table);
}

Result<bool> PgSession::table_exists(const std::string& table) {
  return pg::table_exists(*conn_, conn_->schema(), table);
}

Result<std::vector<std::string>> PgSession::table_columns(const std::string& table) {
  Result<std::vector<PgColumn>> columns = read_columns(*conn_, conn_->schema(), table);
  if (!columns.ok()) return columns.status();
  std::vector<std::string> names;
  for (const PgColumn& c : *columns) names.push_back(c.name);
  return names;
}

Result<std::vector<std::vector<Value>>> PgSession::list_partitions(
    const std::string& table, const std::vector<std::string>& key_columns) {
  if (Status s = require_table(table); !s.ok()) return s;
  if (key_columns.empty()) return std::vector<std::vector<Value>>{};
  std::vector<std::string> quoted;
  for (const std::string& k : key_columns) quoted.push_back(quote_ident(k));
  Result<PgResult> r = conn_->exec(fmt::format("SELECT DISTINCT {} FROM {}", fmt::join(quoted, ", "),
                                               conn_->qualified(table)));
  if (!r.ok()) return r.status();
  std::vector<std::vector<Value>> out(static_cast<size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) {
    for (int c = 0; c < r->cols(); ++c) out[i].push_back(r->value(i, c));
  }
  std::sort(out.begin(), out.end(), [](const std::vector<Value>& a, const std::vector<Value>& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), value_less);
  });
  return out;
}

Result<int64_t> PgSession::count_nulls(const std::string& table, const std::string& column) {
  if (Status s = require_table(table); !s.ok()) return s;
  Result<PgResult> r = conn_->exec(fmt::format("SELECT count(*) FROM {} WHERE {} IS NULL",
                                               conn_->qualified(table), quote_ident(column)));
  if (!r.ok()) return r.status();
  return r->int64(0, 0);
}

Status PgSession::delete_partition(const std::string& table, const std::vector<KeyColumn>& keys) {
  if (Status s = check_writable(); !s.ok()) return s;
  if (Status s = check_keys(keys); !s.ok()) return s;
  Result<bool> exists = table_exists(table);
  if (!exists.ok()) return exists.status();
  if (!*exists) return Status::Ok();
  return delete_rows(*conn_, table, keys);
}

Result<WriteResult> PgSession::fingerprint_partition(const std::string& table,
                                                     const std::vector<KeyColumn>& keys) {
  if (Status s = check_keys(keys); !s.ok()) return s;
  if (Status s = require_table(table); !s.ok()) return s;
  return fingerprint_stored(*conn_, table, keys);
}

}  // namespace pg

Result<std::unique_ptr<Engine>> open_postgres(const ConnectionSettings& settings) {
  auto has = [&](const char* key) {
    auto it = settings.values.find(key);
    return it != settings.values.end() && !it->second.empty();
  };
  if (!has("database")) {
    return Status::Error(fmt::format("connection `{}`: postgres needs a `database` setting", settings.name));
  }
  return std::unique_ptr<Engine>(new pg::PostgresEngine(settings));
}

}  // namespace dbuild::exec
