#include <fmt/format.h>

#include "engine/clickhouse/clickhouse_session.h"

namespace dbuild::exec {

namespace {

/// The column type of a scratch table column holding `rows`' values at `c`: Int64 when every
/// value is an integer, Float64 when they are numbers, else String (NULLs fit every type).
std::string scratch_type(const RowSet& rows, size_t c) {
  bool ints = true, numbers = true;
  for (const std::vector<Value>& row : rows.rows) {
    const Value& v = row.at(c);
    if (std::holds_alternative<std::string>(v)) ints = numbers = false;
    if (std::holds_alternative<double>(v)) ints = false;
  }
  return ints ? "Nullable(Int64)" : numbers ? "Nullable(Float64)" : "Nullable(String)";
}

}  // namespace

Status ClickhouseSession::expose_stored_tables() {
  Result<std::string> db = private_database();
  if (!db.ok()) return db.status();
  Result<TsvTable> t = select(fmt::format(
      "SELECT name FROM system.tables WHERE database = {} AND substring(name, 1, 8) != '__dbuild' "
      "AND name NOT IN (SELECT name FROM system.tables WHERE database = {})",
      ch_string(config_.database), ch_string(*db)));
  if (!t.ok()) return t.status();
  for (const std::vector<std::string>& row : t->rows) {
    Result<std::string> r = shard(0).query(fmt::format("CREATE VIEW IF NOT EXISTS {} AS SELECT * FROM {}",
                                                       ch_table(*db, row[0]), ch_table(config_.database, row[0])));
    if (!r.ok()) return r.status();
  }
  return Status::Ok();
}

Status ClickhouseSession::create_scratch_table(const std::string& name, const RowSet& rows) {
  if (rows.columns.empty()) return Status::Error(fmt::format("scratch table `{}` has no columns", name));
  Result<std::string> db = private_database();
  if (!db.ok()) return db.status();
  std::vector<std::string> defs, names;
  for (size_t c = 0; c < rows.columns.size(); ++c) {
    defs.push_back(ch_ident(rows.columns[c]) + " " + scratch_type(rows, c));
    names.push_back(ch_ident(rows.columns[c]));
  }
  std::string qualified = ch_table(*db, name);
  Result<std::string> r = shard(0).query("DROP TABLE IF EXISTS " + qualified);
  if (r.ok()) r = shard(0).query(fmt::format("CREATE TABLE {} ({}) ENGINE = Memory", qualified, fmt::join(defs, ", ")));
  if (!r.ok()) return r.status();
  std::string data;
  for (const std::vector<Value>& row : rows.rows) {
    if (row.size() != rows.columns.size()) {
      return Status::Error(fmt::format("scratch table `{}`: a row has {} values, not {}", name, row.size(),
                                       rows.columns.size()));
    }
    for (size_t c = 0; c < row.size(); ++c) {
      if (c > 0) data += '\t';
      tsv_append(&data, row[c]);
    }
    data += '\n';
  }
  if (!data.empty()) {
    Status st = shard(0).insert(fmt::format("INSERT INTO {} ({}) FORMAT TabSeparated", qualified,
                                            fmt::join(names, ", ")),
                                data);
    if (!st.ok()) return st;
  }
  scratch_tables_.push_back(name);
  return Status::Ok();
}

Result<RowSet> ClickhouseSession::run_select(const std::string& sql, const std::vector<Value>&) {
  // Parameters were rendered into the SQL as literals by Engine::placeholder.
  std::string db = config_.database;
  if (scratch_ || !private_db_.empty()) {
    Result<std::string> p = private_database();
    if (!p.ok()) return p.status();
    if (Status st = expose_stored_tables(); !st.ok()) return st;
    db = *p;
  }
  size_t end = sql.find_last_not_of(" \t\r\n;");
  Result<TsvTable> t = select(end == std::string::npos ? sql : sql.substr(0, end + 1), db, true);
  if (!t.ok()) return t.status();
  RowSet out;
  out.columns = t->names;
  for (size_t r = 0; r < t->rows.size(); ++r) {
    std::vector<Value>& row = out.rows.emplace_back();
    for (size_t c = 0; c < t->names.size(); ++c) row.push_back(ch_value(t->types[c], t->rows[r][c], t->nulls[r][c]));
  }
  return out;
}

}  // namespace dbuild::exec
