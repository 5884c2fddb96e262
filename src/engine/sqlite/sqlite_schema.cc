#include "engine/sqlite/sqlite_schema.h"

#include <fmt/format.h>

#include "values/row_hash.h"

namespace dbuild::exec {

Result<std::vector<TableColumn>> read_columns(sqlite3* db, const std::string& table) {
  Result<Stmt> st = Stmt::prepare(db, "SELECT name, type FROM pragma_table_info(?1, 'main')");
  if (!st.ok()) return st.status();
  Status s = st->bind(1, Value(table));
  if (!s.ok()) return s;
  std::vector<TableColumn> columns;
  for (;;) {
    Result<bool> row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) return columns;
    columns.push_back({std::get<std::string>(st->column(0)), std::get<std::string>(st->column(1))});
  }
}

std::string key_clash(const std::vector<std::string>& names, const std::vector<KeyColumn>& keys) {
  for (const std::string& n : names) {
    for (const KeyColumn& k : keys) {
      if (same_ident(n, k.name)) return n;
    }
  }
  return {};
}

Status check_keys(const std::vector<KeyColumn>& keys) {
  for (size_t i = 0; i < keys.size(); ++i) {
    if (is_null(keys[i].value)) {
      return Status::Error(fmt::format("partition key `{}` has no value (NULL)", keys[i].name));
    }
    for (size_t j = 0; j < i; ++j) {
      if (same_ident(keys[i].name, keys[j].name)) {
        return Status::Error(fmt::format("partition key `{}` is given twice", keys[i].name));
      }
    }
  }
  return Status::Ok();
}

const char* key_decl_type(const Value& v) {
  if (std::holds_alternative<int64_t>(v)) return "INTEGER";
  if (std::holds_alternative<double>(v)) return "REAL";
  return "TEXT";
}

namespace {

std::string key_index_name(const std::string& table) { return "dbuild_key_" + table; }

Status create_table(sqlite3* db, const std::string& table, const std::vector<KeyColumn>& keys,
                    const std::vector<OutputColumn>& columns) {
  std::vector<std::string> defs;
  for (const KeyColumn& k : keys) defs.push_back(quote_ident(k.name) + " " + key_decl_type(k.value));
  for (const OutputColumn& c : columns) {
    defs.push_back(quote_ident(c.name) + (c.decl_type.empty() ? "" : " " + c.decl_type));
  }
  if (defs.empty()) defs.push_back("\"dbuild_empty\"");  // SQLite needs one column
  return exec_sql(db, fmt::format("CREATE TABLE main.{} ({})", quote_ident(table),
                                  fmt::join(defs, ", ")));
}

bool has_column(const std::vector<TableColumn>& have, const std::string& name) {
  for (const TableColumn& c : have) {
    if (same_ident(c.name, name)) return true;
  }
  return false;
}

Status widen_table(sqlite3* db, const std::string& table, const std::vector<TableColumn>& have,
                   const std::vector<KeyColumn>& keys, const std::vector<OutputColumn>& columns) {
  for (const KeyColumn& k : keys) {
    if (!has_column(have, k.name)) {
      return Status::Error(fmt::format(
          "table `{}` exists without the partition key column `{}`; dbuild cannot write its "
          "partitions (drop or rename the table)",
          table, k.name));
    }
  }
  for (const OutputColumn& c : columns) {
    if (has_column(have, c.name)) continue;
    Status s = exec_sql(db, fmt::format("ALTER TABLE main.{} ADD COLUMN {}{}", quote_ident(table),
                                        quote_ident(c.name),
                                        c.decl_type.empty() ? "" : " " + c.decl_type));
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

Status ensure_table(sqlite3* db, const std::string& table, const std::vector<KeyColumn>& keys,
                    const std::vector<OutputColumn>& columns) {
  Result<std::vector<TableColumn>> have = read_columns(db, table);
  if (!have.ok()) return have.status();
  Status s = have->empty() ? create_table(db, table, keys, columns)
                           : widen_table(db, table, *have, keys, columns);
  if (!s.ok() || keys.empty()) return s;
  std::vector<std::string> names;
  for (const KeyColumn& k : keys) names.push_back(quote_ident(k.name));
  return exec_sql(db, fmt::format("CREATE INDEX IF NOT EXISTS main.{} ON {} ({})",
                                  quote_ident(key_index_name(table)), quote_ident(table),
                                  fmt::join(names, ", ")));
}

std::string key_predicate(const std::vector<KeyColumn>& keys, int first) {
  if (keys.empty()) return "1";
  std::string out;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out += " AND ";
    out += fmt::format("{} = ?{}", quote_ident(keys[i].name), first + static_cast<int>(i));
  }
  return out;
}

Status bind_keys(Stmt& st, const std::vector<KeyColumn>& keys, int first) {
  for (size_t i = 0; i < keys.size(); ++i) {
    Status s = st.bind(first + static_cast<int>(i), keys[i].value);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

void encode_column(RowEncoder& enc, sqlite3_stmt* st, int i, std::string_view name) {
  switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: return;
    case SQLITE_INTEGER: return enc.add_int(name, sqlite3_column_int64(st, i));
    case SQLITE_FLOAT: return enc.add_real(name, sqlite3_column_double(st, i));
    case SQLITE_BLOB: {
      const char* p = static_cast<const char*>(sqlite3_column_blob(st, i));
      return enc.add_blob(name, {p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st, i))});
    }
    default: {
      const char* p = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
      return enc.add_text(name, {p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st, i))});
    }
  }
}

Result<WriteResult> fingerprint_stored(sqlite3* db, const std::string& table,
                                       const std::vector<KeyColumn>& keys) {
  Result<std::vector<TableColumn>> all = read_columns(db, table);
  if (!all.ok()) return all.status();
  std::vector<std::string> names, quoted;
  for (const TableColumn& c : *all) {
    if (!key_clash({c.name}, keys).empty()) continue;
    names.push_back(c.name);
    quoted.push_back(quote_ident(c.name));
  }
  std::string sql = fmt::format("SELECT {} FROM main.{} WHERE {}",
                                quoted.empty() ? "NULL" : fmt::format("{}", fmt::join(quoted, ", ")),
                                quote_ident(table), key_predicate(keys, 1));
  Result<Stmt> st = Stmt::prepare(db, sql);
  if (!st.ok()) return st.status();
  Status s = bind_keys(*st, keys, 1);
  if (!s.ok()) return s;
  RowEncoder enc;
  MultisetHash set;
  for (;;) {
    Result<bool> row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    enc.clear();
    for (size_t i = 0; i < names.size(); ++i) encode_column(enc, st->get(), static_cast<int>(i), names[i]);
    set.add(enc.hash());
  }
  WriteResult r;
  r.rows = static_cast<int64_t>(set.rows());
  r.fingerprint = set.finish();
  return r;
}

}  // namespace dbuild::exec
