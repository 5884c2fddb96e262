// PgSession's partition writes: write_query_partition and load_partition, one transaction each.
#include <fmt/format.h>

#include "engine/postgres/pg_checks.h"
#include "engine/postgres/pg_copy.h"
#include "engine/postgres/pg_schema.h"
#include "engine/postgres/pg_session.h"
#include "engine/postgres/pg_sql_text.h"

namespace dbuild::exec::pg {

namespace {

/// The temporary table a query's rows are computed into before the old partition goes.
constexpr const char* kResult = "pg_temp.\"dbuild_result\"";

/// Temporary views (in pg_temp, searched before the schema) created inside a write
/// transaction; dropped before it commits, and by its rollback otherwise.
class TempViews {
 public:
  explicit TempViews(PgConn& conn) : conn_(conn) {}

  /// Creates pg_temp."name" showing the rows of the stored `source` that `filter` selects.
  Status create(const std::string& name, const std::string& source, const std::string& filter) {
    std::string view = "pg_temp." + quote_ident(name);
    Result<PgResult> r = conn_.exec(fmt::format("CREATE TEMP VIEW {} AS SELECT * FROM {}{}", quote_ident(name),
                                                conn_.qualified(source),
                                                filter.empty() ? "" : " WHERE " + filter));
    if (!r.ok()) return r.status();
    views_.push_back(view);
    return Status::Ok();
  }
  Status drop_all() {
    for (const std::string& v : views_) {
      if (Result<PgResult> r = conn_.exec("DROP VIEW " + v); !r.ok()) return r.status();
    }
    views_.clear();
    return Status::Ok();
  }

 private:
  PgConn& conn_;
  std::vector<std::string> views_;
};

Status create_input_views(PgConn& conn, const std::vector<InputView>& inputs, TempViews& views) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const InputView& in = inputs[i];
    for (size_t j = 0; j < i; ++j) {
      if (inputs[j].table == in.table) return Status::Error(fmt::format("input `{}` is given twice", in.table));
    }
    const std::string& source = in.source_table.empty() ? in.table : in.source_table;
    Result<bool> exists = table_exists(conn, conn.schema(), source);
    if (!exists.ok()) return exists.status();
    if (!*exists) return Status::Error(fmt::format("input table `{}` does not exist", source));
    std::string filter;
    if (!in.all) {
      Result<std::string> f = partitions_filter(conn, in.key_columns, in.partitions);
      if (!f.ok()) return Status::Error(fmt::format("input `{}`: {}", in.table, f.status().message()));
      filter = *f;
    }
    if (Status s = views.create(in.table, source, filter); !s.ok()) {
      return Status::Error(fmt::format("input `{}`: {}", in.table, s.message()));
    }
  }
  return Status::Ok();
}

/// Runs the query into kResult; returns its columns. Fails on a column named like a key.
Result<std::vector<PgColumn>> compute_rows(PgConn& conn, const QuerySpec& q) {
  std::string sql = trim_statement(q.sql);
  Result<PgParams> params = bind_user_params(sql, q.params);
  if (!params.ok()) return params.status();
  // Nested in a subquery, only a read-only SELECT parses (no second statement, no DML).
  Result<PgResult> r = conn.exec(
      fmt::format("CREATE TEMP TABLE \"dbuild_result\" AS SELECT * FROM (\n{}\n) AS \"dbuild_query\"", sql),
      *params);
  if (!r.ok()) return r.status();
  Result<std::vector<PgColumn>> columns = read_columns(conn, "pg_temp", "dbuild_result");
  if (!columns.ok()) return columns.status();
  for (const PgColumn& c : *columns) {
    if (!key_clash({c.name}, q.keys).empty()) {
      return Status::Error(fmt::format("query output column `{}` clashes with the partition key; "
                                       "dbuild fills key columns — remove it from the SELECT",
                                       c.name));
    }
  }
  return columns;
}

/// The quoted column list "k1", ..., "c1", ... of a write.
std::string column_list(const std::vector<KeyColumn>& keys, const std::vector<PgColumn>& columns) {
  std::vector<std::string> names;
  for (const KeyColumn& k : keys) names.push_back(quote_ident(k.name));
  for (const PgColumn& c : columns) names.push_back(quote_ident(c.name));
  return fmt::format("{}", fmt::join(names, ", "));
}

Status insert_rows(PgConn& conn, const QuerySpec& q, const std::vector<PgColumn>& columns) {
  std::vector<std::string> values;
  for (size_t i = 1; i <= q.keys.size(); ++i) values.push_back(fmt::format("${}", i));
  for (const PgColumn& c : columns) values.push_back(quote_ident(c.name));
  PgParams p;
  add_keys(p, q.keys);
  std::string sql = values.empty()
                        ? fmt::format("INSERT INTO {} SELECT FROM {}", conn.qualified(q.table), kResult)
                        : fmt::format("INSERT INTO {} ({}) SELECT {} FROM {}", conn.qualified(q.table),
                                      column_list(q.keys, columns), fmt::join(values, ", "), kResult);
  Result<PgResult> r = conn.exec(sql, p);
  return r.ok() ? Status::Ok() : r.status();
}

/// Runs the checks on the new partition, seen through a temp view named like the output table.
Status check_partition(PgConn& conn, const QuerySpec& q) {
  if (q.checks.empty()) return Status::Ok();
  std::vector<std::string> key_names;
  std::vector<Value> key_values;
  for (const KeyColumn& k : q.keys) {
    key_names.push_back(k.name);
    key_values.push_back(k.value);
  }
  std::string filter;
  if (!q.keys.empty()) {
    Result<std::string> f = partitions_filter(conn, key_names, {key_values});
    if (!f.ok()) return f.status();
    filter = *f;
  }
  TempViews view(conn);
  if (Status s = view.create(q.table, q.table, filter); !s.ok()) return s;
  if (Status s = run_checks(conn, "pg_temp." + quote_ident(q.table), q.checks, q.params); !s.ok()) return s;
  return view.drop_all();
}

Status with_table(const std::string& table, const Status& s) {
  if (s.ok()) return s;
  return Status::Error(fmt::format("query for `{}`: {}", table, s.message()));
}

}  // namespace

Result<WriteResult> PgSession::write_query_partition(const QuerySpec& q) {
  if (Status s = check_writable(); !s.ok()) return s;
  if (Status s = check_keys(q.keys); !s.ok()) return s;
  PgTxn txn(*conn_);
  if (Status s = txn.begin(); !s.ok()) return s;
  Result<WriteResult> result = write_query(q);
  if (!result.ok()) return result;
  if (Status s = txn.commit(); !s.ok()) return s;
  return result;
}

Result<WriteResult> PgSession::write_query(const QuerySpec& q) {
  TempViews inputs(*conn_);
  if (Status s = create_input_views(*conn_, q.inputs, inputs); !s.ok()) return s;
  Result<std::vector<PgColumn>> columns = compute_rows(*conn_, q);
  if (!columns.ok()) return with_table(q.table, columns.status());
  if (Status s = inputs.drop_all(); !s.ok()) return s;
  if (Status s = ensure_table(*conn_, q.table, q.keys, *columns); !s.ok()) return s;
  if (Status s = delete_rows(*conn_, q.table, q.keys); !s.ok()) return s;
  if (Status s = insert_rows(*conn_, q, *columns); !s.ok()) return with_table(q.table, s);
  if (Result<PgResult> r = conn_->exec(std::string("DROP TABLE ") + kResult); !r.ok()) return r.status();
  Result<WriteResult> result = fingerprint_stored(*conn_, q.table, q.keys);
  if (!result.ok()) return result;
  if (Status s = check_partition(*conn_, q); !s.ok()) return s;
  return result;
}

Result<WriteResult> PgSession::load_partition(const std::string& table, const std::vector<KeyColumn>& keys,
                                              const LoadSpec& spec, const std::string& file_path) {
  if (Status s = check_writable(); !s.ok()) return s;
  if (Status s = check_keys(keys); !s.ok()) return s;
  PgTxn txn(*conn_);
  if (Status s = txn.begin(); !s.ok()) return s;
  Result<WriteResult> result = load(table, keys, spec, file_path);
  if (!result.ok()) return result;
  if (Status s = txn.commit(); !s.ok()) return s;
  return result;
}

Result<WriteResult> PgSession::load(const std::string& table, const std::vector<KeyColumn>& keys,
                                    const LoadSpec& spec, const std::string& file_path) {
  Result<std::unique_ptr<Loader>> loader = Loader::open(spec, file_path);
  if (!loader.ok()) return loader.status();
  std::vector<PgColumn> columns;
  std::vector<std::string> names;
  for (const ColumnSpec& c : (*loader)->columns()) {
    columns.push_back({c.name, column_type(c.type)});
    names.push_back(c.name);
  }
  if (std::string clash = key_clash(names, keys); !clash.empty()) {
    return Status::Error(fmt::format(
        "{}: column `{}` clashes with the partition key; dbuild fills key columns — rename or "
        "drop the column",
        file_path, clash));
  }
  if (Status s = ensure_table(*conn_, table, keys, columns); !s.ok()) return s;
  if (Status s = delete_rows(*conn_, table, keys); !s.ok()) return s;
  std::vector<Value> prefix;
  for (const KeyColumn& k : keys) prefix.push_back(k.value);
  std::string copy = fmt::format("COPY {} ({}) FROM STDIN", conn_->qualified(table), column_list(keys, columns));
  if (Status s = copy_from_loader(*conn_, copy, prefix, **loader); !s.ok()) return s;
  Result<WriteResult> result = fingerprint_stored(*conn_, table, keys);
  if (!result.ok()) return result;
  result->skipped_malformed = (*loader)->stats().skipped_malformed;
  result->skipped_lines_sample = (*loader)->stats().skipped_lines_sample;
  return result;
}

}  // namespace dbuild::exec::pg
