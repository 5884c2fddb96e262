#include "engine/postgres/pg_schema.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "base/hash.h"

namespace dbuild::exec::pg {

namespace {

constexpr Oid kInt8 = 20, kFloat8 = 701, kText = 25;

Oid key_oid(const Value& v) {
  if (std::holds_alternative<int64_t>(v)) return kInt8;
  if (std::holds_alternative<double>(v)) return kFloat8;
  return kText;
}

Result<bool> schema_exists(PgConn& conn, const std::string& schema) {
  PgParams p;
  p.add(Value(schema));
  Result<PgResult> r = conn.exec("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", p);
  if (!r.ok()) return r.status();
  return r->rows() > 0;
}

Status lock_ddl(PgConn& conn) {
  PgParams p;
  p.add(Value("dbuild ddl " + conn.schema()));
  Result<PgResult> r = conn.exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", p);
  return r.ok() ? Status::Ok() : r.status();
}

Status create_table(PgConn& conn, const std::string& table, const std::vector<KeyColumn>& keys,
                    const std::vector<PgColumn>& columns) {
  Result<bool> have_schema = schema_exists(conn, conn.schema());
  if (!have_schema.ok()) return have_schema.status();
  if (!*have_schema) {
    Result<PgResult> r = conn.exec("CREATE SCHEMA IF NOT EXISTS " + quote_ident(conn.schema()));
    if (!r.ok()) return r.status();
  }
  std::vector<std::string> defs, key_names;
  for (const KeyColumn& k : keys) {
    defs.push_back(fmt::format("{} {} NOT NULL", quote_ident(k.name), key_type(k.value)));
    key_names.push_back(quote_ident(k.name));
  }
  for (const PgColumn& c : columns) defs.push_back(fmt::format("{} {}", quote_ident(c.name), c.type));
  Result<PgResult> r =
      conn.exec(fmt::format("CREATE TABLE {} ({})", conn.qualified(table), fmt::join(defs, ", ")));
  if (!r.ok()) return r.status();
  if (keys.empty()) return Status::Ok();
  r = conn.exec(fmt::format("CREATE INDEX ON {} ({})", conn.qualified(table), fmt::join(key_names, ", ")));
  return r.ok() ? Status::Ok() : r.status();
}

/// The columns of `columns` the table lacks; fails if it lacks a key column.
Result<std::vector<PgColumn>> missing_columns(PgConn& conn, const std::string& table,
                                              const std::vector<KeyColumn>& keys,
                                              const std::vector<PgColumn>& columns) {
  Result<std::vector<PgColumn>> have = read_columns(conn, conn.schema(), table);
  if (!have.ok()) return have.status();
  auto has = [&](const std::string& name) {
    return std::any_of(have->begin(), have->end(), [&](const PgColumn& c) { return c.name == name; });
  };
  for (const KeyColumn& k : keys) {
    if (!has(k.name)) {
      return Status::Error(fmt::format("table `{}` has no column `{}` for the partition key", table, k.name));
    }
  }
  std::vector<PgColumn> missing;
  for (const PgColumn& c : columns) {
    if (!has(c.name)) missing.push_back(c);
  }
  return missing;
}

}  // namespace

Result<bool> table_exists(PgConn& conn, const std::string& schema, const std::string& table) {
  PgParams p;
  p.add(Value(schema));
  p.add(Value(table));
  Result<PgResult> r = conn.exec(
      "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
      p);
  if (!r.ok()) return r.status();
  return r->rows() > 0;
}

Result<std::vector<PgColumn>> read_columns(PgConn& conn, const std::string& schema,
                                           const std::string& table) {
  PgParams p;
  p.add(Value(schema));
  p.add(Value(table));
  // pg_temp names this session's temporary schema, whatever its real name.
  Result<PgResult> r = conn.exec(
      "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) "
      "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
      "WHERE c.relnamespace = CASE WHEN $1 = 'pg_temp' THEN pg_catalog.pg_my_temp_schema() "
      "ELSE (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1) END "
      "AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
      p);
  if (!r.ok()) return r.status();
  std::vector<PgColumn> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back({r->text(i, 0), r->text(i, 1)});
  return out;
}

Status ensure_table(PgConn& conn, const std::string& table, const std::vector<KeyColumn>& keys,
                    const std::vector<PgColumn>& columns) {
  for (bool locked = false;; locked = true) {
    Result<bool> exists = table_exists(conn, conn.schema(), table);
    if (!exists.ok()) return exists.status();
    std::vector<PgColumn> missing;
    if (*exists) {
      Result<std::vector<PgColumn>> m = missing_columns(conn, table, keys, columns);
      if (!m.ok()) return m.status();
      if (m->empty()) return Status::Ok();
      missing = std::move(*m);
    }
    if (!locked) {  // look again under the lock: another writer may have done it meanwhile
      if (Status s = lock_ddl(conn); !s.ok()) return s;
      continue;
    }
    if (!*exists) return create_table(conn, table, keys, columns);
    std::vector<std::string> adds;
    for (const PgColumn& c : missing) {
      adds.push_back(fmt::format("ADD COLUMN {} {}", quote_ident(c.name), c.type));
    }
    Result<PgResult> r =
        conn.exec(fmt::format("ALTER TABLE {} {}", conn.qualified(table), fmt::join(adds, ", ")));
    return r.ok() ? Status::Ok() : r.status();
  }
}

const char* key_type(const Value& v) {
  if (std::holds_alternative<int64_t>(v)) return "bigint";
  if (std::holds_alternative<double>(v)) return "double precision";
  return "text";
}

Status check_keys(const std::vector<KeyColumn>& keys) {
  std::set<std::string> names;
  for (const KeyColumn& k : keys) {
    if (is_null(k.value)) return Status::Error(fmt::format("partition key `{}` is NULL", k.name));
    if (!names.insert(k.name).second) {
      return Status::Error(fmt::format("partition key `{}` is given twice", k.name));
    }
  }
  return Status::Ok();
}

std::string key_clash(const std::vector<std::string>& names, const std::vector<KeyColumn>& keys) {
  for (const std::string& n : names) {
    for (const KeyColumn& k : keys) {
      if (n == k.name) return n;
    }
  }
  return "";
}

std::string key_predicate(const std::vector<KeyColumn>& keys, int first) {
  if (keys.empty()) return "TRUE";
  std::vector<std::string> parts;
  for (size_t i = 0; i < keys.size(); ++i) {
    parts.push_back(fmt::format("{} = ${}", quote_ident(keys[i].name), first + static_cast<int>(i)));
  }
  return fmt::format("{}", fmt::join(parts, " AND "));
}

void add_keys(PgParams& params, const std::vector<KeyColumn>& keys) {
  for (const KeyColumn& k : keys) params.add(k.value, key_oid(k.value));
}

Result<std::string> partitions_filter(const PgConn& conn, const std::vector<std::string>& key_columns,
                                      const std::vector<std::vector<Value>>& partitions) {
  if (key_columns.empty()) {
    return Status::Error("an input selects partitions but names no key columns (read all of it instead)");
  }
  if (partitions.empty()) return std::string("FALSE");
  std::vector<std::string> quoted, tuples;
  for (const std::string& k : key_columns) quoted.push_back(quote_ident(k));
  for (const std::vector<Value>& tuple : partitions) {
    if (tuple.size() != key_columns.size()) {
      return Status::Error(fmt::format("a partition of an input has {} key values, not {}",
                                       tuple.size(), key_columns.size()));
    }
    std::vector<std::string> lits;
    for (const Value& v : tuple) lits.push_back(conn.literal(v));
    tuples.push_back(fmt::format("({})", fmt::join(lits, ", ")));
  }
  if (key_columns.size() == 1) {
    // (x) is not a row constructor: compare the bare column with a list of scalars.
    std::vector<std::string> scalars;
    for (const std::vector<Value>& tuple : partitions) scalars.push_back(conn.literal(tuple[0]));
    return fmt::format("{} IN ({})", quoted[0], fmt::join(scalars, ", "));
  }
  return fmt::format("({}) IN ({})", fmt::join(quoted, ", "), fmt::join(tuples, ", "));
}

Status delete_rows(PgConn& conn, const std::string& table, const std::vector<KeyColumn>& keys) {
  PgParams p;
  add_keys(p, keys);
  Result<PgResult> r =
      conn.exec(fmt::format("DELETE FROM {} WHERE {}", conn.qualified(table), key_predicate(keys, 1)), p);
  return r.ok() ? Status::Ok() : r.status();
}

Result<WriteResult> fingerprint_stored(PgConn& conn, const std::string& table,
                                       const std::vector<KeyColumn>& keys) {
  std::vector<std::string> key_names;
  for (const KeyColumn& k : keys) key_names.push_back(conn.literal(k.name));
  PgParams p;
  add_keys(p, keys);
  std::string sql = fmt::format(
      "SELECT count(*), coalesce(sum(hashtextextended(j, 0)::numeric), 0)::text, "
      "coalesce(sum(hashtextextended(j, 1)::numeric), 0)::text "
      "FROM (SELECT jsonb_strip_nulls(to_jsonb(dbuild_row.*) - ARRAY[{}]::text[])::text AS j "
      "FROM {} AS dbuild_row WHERE {}) AS dbuild_rows",
      fmt::join(key_names, ", "), conn.qualified(table), key_predicate(keys, 1));
  Result<PgResult> r = conn.exec(sql, p);
  if (!r.ok()) return r.status();
  WriteResult out;
  out.rows = r->int64(0, 0);
  Hasher h;
  h.add(std::string_view("dbuild postgres rows v1"));
  h.add(static_cast<uint64_t>(out.rows)).add(r->text(0, 1)).add(r->text(0, 2));
  out.fingerprint = h.finish();
  return out;
}

const char* column_type(ColumnType t) {
  switch (t) {
    case ColumnType::String: return "text";
    case ColumnType::Int: return "bigint";
    case ColumnType::Float: return "double precision";
    case ColumnType::Bool: return "boolean";
    case ColumnType::Date: return "date";
    case ColumnType::Timestamp: return "timestamp";
  }
  return "text";
}


}  // namespace dbuild::exec::pg
