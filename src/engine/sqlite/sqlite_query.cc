// SqliteEngine::write_query_partition: input views, the streamed INSERT, checks, one transaction.
#include <fmt/format.h>

#include "engine/sqlite/sqlite_engine.h"
#include "engine/sqlite/sqlite_reads.h"
#include "engine/sqlite/sqlite_schema.h"
#include "engine/sqlite/sqlite_writer.h"

namespace dbuild::exec {

namespace {

/// Temporary views and tables made for one query, in the temp schema, where unqualified names
/// are looked up first. Created inside the write transaction; dropped before it commits (a
/// rollback removes them too).
class TempObjects {
 public:
  explicit TempObjects(sqlite3* db) : db_(db) {}
  ~TempObjects() { drop_all(); }
  TempObjects(const TempObjects&) = delete;
  TempObjects& operator=(const TempObjects&) = delete;

  /// Creates temp."name" showing the rows of main."source" in `partitions` (every row if all).
  Status create_view(const std::string& name, const std::string& source,
                     const std::vector<std::string>& key_columns, bool all,
                     const std::vector<std::vector<Value>>& partitions);
  /// Creates an empty temp table with untyped columns; returns its quoted, qualified name.
  Result<std::string> create_table(const std::vector<std::string>& columns);
  /// Drops everything created so far. REQUIRES: no statement reading them is running.
  Status drop_all();

 private:
  Status fill_keys(const std::string& table, size_t width,
                   const std::vector<std::vector<Value>>& partitions);

  sqlite3* db_;
  std::vector<std::string> views_;   // quoted, qualified
  std::vector<std::string> tables_;  // quoted, qualified
};

Status TempObjects::create_view(const std::string& name, const std::string& source,
                                const std::vector<std::string>& key_columns, bool all,
                                const std::vector<std::vector<Value>>& partitions) {
  std::string view = "temp." + quote_ident(name);
  std::string sql = fmt::format("SELECT * FROM main.{}", quote_ident(source));
  if (!all) {
    if (key_columns.empty()) {
      return Status::Error(fmt::format(
          "input `{}` selects partitions but names no key columns (read all of it instead)", name));
    }
    std::vector<std::string> quoted;
    for (const std::string& k : key_columns) quoted.push_back(quote_ident(k));
    Result<std::string> keys = create_table(key_columns);
    if (!keys.ok()) return keys.status();
    Status s = fill_keys(*keys, key_columns.size(), partitions);
    if (!s.ok()) return s;
    std::string cols = fmt::format("{}", fmt::join(quoted, ", "));
    sql += fmt::format(" WHERE ({0}) IN (SELECT {0} FROM {1})", cols, *keys);
  }
  Status s = exec_sql(db_, "DROP VIEW IF EXISTS " + view);
  if (s.ok()) s = exec_sql(db_, fmt::format("CREATE TEMP VIEW {} AS {}", quote_ident(name), sql));
  if (s.ok()) views_.push_back(view);
  return s;
}

Result<std::string> TempObjects::create_table(const std::vector<std::string>& columns) {
  std::string name = fmt::format("temp.\"dbuild_tmp_{}\"", tables_.size());
  std::vector<std::string> quoted;
  for (const std::string& c : columns) quoted.push_back(quote_ident(c));
  Status s = exec_sql(db_, "DROP TABLE IF EXISTS " + name);
  if (s.ok()) s = exec_sql(db_, fmt::format("CREATE TABLE {} ({})", name, fmt::join(quoted, ", ")));
  if (!s.ok()) return s;
  tables_.push_back(name);
  return name;
}

Status TempObjects::fill_keys(const std::string& table, size_t width,
                              const std::vector<std::vector<Value>>& partitions) {
  std::vector<std::string> params;
  for (size_t i = 1; i <= width; ++i) params.push_back(fmt::format("?{}", i));
  Result<Stmt> st =
      Stmt::prepare(db_, fmt::format("INSERT INTO {} VALUES ({})", table, fmt::join(params, ", ")));
  if (!st.ok()) return st.status();
  for (const std::vector<Value>& tuple : partitions) {
    if (tuple.size() != width) {
      return Status::Error(fmt::format("a partition of an input has {} key values, not {}",
                                       tuple.size(), width));
    }
    for (size_t i = 0; i < width; ++i) {
      if (Status s = st->bind(static_cast<int>(i) + 1, tuple[i]); !s.ok()) return s;
    }
    if (Status s = st->run(); !s.ok()) return s;
    st->reset();
  }
  return Status::Ok();
}

Status TempObjects::drop_all() {
  Status result;
  for (const std::string& v : views_) {
    Status s = exec_sql(db_, "DROP VIEW IF EXISTS " + v);
    if (!s.ok() && result.ok()) result = s;
  }
  for (const std::string& t : tables_) {
    Status s = exec_sql(db_, "DROP TABLE IF EXISTS " + t);
    if (!s.ok() && result.ok()) result = s;
  }
  views_.clear();
  tables_.clear();
  return result;
}

Status bind_params(Stmt& st, const std::vector<Value>& params) {
  int count = sqlite3_bind_parameter_count(st.get());
  for (int i = 1; i <= count; ++i) {
    const char* name = sqlite3_bind_parameter_name(st.get(), i);
    if (name && name[0] != '?') {
      return Status::Error(fmt::format("parameter {} is not supported; use ?NNN parameters", name));
    }
    if (!name) continue;  // an index no ?NNN names
    if (static_cast<size_t>(i) > params.size()) {
      return Status::Error(fmt::format("the SQL uses ?{} but only {} parameter values are given", i,
                                       params.size()));
    }
    if (Status s = st.bind(i, params[i - 1]); !s.ok()) return s;
  }
  return Status::Ok();
}

/// The result column names of the query; fails on duplicates or a clash with a key column.
Result<std::vector<OutputColumn>> output_columns(sqlite3_stmt* st, const std::vector<KeyColumn>& keys) {
  std::vector<OutputColumn> columns;
  std::vector<std::string> names;
  for (int i = 0; i < sqlite3_column_count(st); ++i) {
    std::string name = sqlite3_column_name(st, i);
    for (const std::string& seen : names) {
      if (same_ident(seen, name)) {
        return Status::Error(fmt::format(
            "the query returns column `{}` twice; give each column its own name (AS ...)", name));
      }
    }
    if (!key_clash({name}, keys).empty()) {
      return Status::Error(fmt::format("query output column `{}` clashes with the partition key; "
                                       "dbuild fills key columns — remove it from the SELECT",
                                       name));
    }
    names.push_back(name);
    columns.push_back({name, ""});
  }
  return columns;
}

bool reads_table(const std::vector<TableRead>& reads, const std::string& table) {
  for (const TableRead& r : reads) {
    if (r.schema == "main" && same_ident(r.table, table)) return true;
  }
  return false;
}

/// Runs `select` into a temp table and returns a statement reading it back: for a query that
/// reads the table it writes, whose old rows are deleted before the insert.
Result<Stmt> materialize(sqlite3* db, Stmt select, const std::vector<OutputColumn>& columns,
                         TempObjects& temps) {
  std::vector<std::string> names, params;
  for (size_t i = 0; i < columns.size(); ++i) {
    names.push_back(columns[i].name);
    params.push_back(fmt::format("?{}", i + 1));
  }
  Result<std::string> table = temps.create_table(names);
  if (!table.ok()) return table.status();
  Result<Stmt> insert =
      Stmt::prepare(db, fmt::format("INSERT INTO {} VALUES ({})", *table, fmt::join(params, ", ")));
  if (!insert.ok()) return insert.status();
  for (;;) {
    Result<bool> row = select.step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    for (int i = 0; i < select.column_count(); ++i) {
      sqlite3_bind_value(insert->get(), i + 1, sqlite3_column_value(select.get(), i));
    }
    if (Status s = insert->run(); !s.ok()) return s;
    insert->reset();
  }
  return Stmt::prepare(db, "SELECT * FROM " + *table);
}

Status copy_rows(Stmt& select, PartitionWriter& writer) {
  for (;;) {
    Result<bool> row = select.step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    if (Status s = writer.add(select.get()); !s.ok()) return s;
  }
}

/// Prepares the user's query over the input views, with parameters bound.
Result<Stmt> prepare_query(sqlite3* db, const QuerySpec& q, std::vector<TableRead>* reads) {
  Result<Stmt> select = prepare_user_sql(db, q.sql, reads, nullptr);
  if (!select.ok()) {
    return Status::Error(fmt::format("query for `{}`: {}", q.table, select.status().message()));
  }
  if (Status s = bind_params(*select, q.params); !s.ok()) {
    return Status::Error(fmt::format("query for `{}`: {}", q.table, s.message()));
  }
  return select;
}

Status create_input_views(const std::vector<InputView>& inputs, TempObjects& temps,
                          SqliteEngine& engine) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const InputView& in = inputs[i];
    for (size_t j = 0; j < i; ++j) {
      if (same_ident(inputs[j].table, in.table)) {
        return Status::Error(fmt::format("input `{}` is given twice", in.table));
      }
    }
    const std::string& source = in.source_table.empty() ? in.table : in.source_table;
    Result<bool> exists = engine.table_exists(source);
    if (!exists.ok()) return exists.status();
    if (!*exists) return Status::Error(fmt::format("input table `{}` does not exist", source));
    Status s = temps.create_view(in.table, source, in.key_columns, in.all, in.partitions);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

/// Runs the checks on the new partition, seen through a temp view named like the output table.
Status check_partition(sqlite3* db, const QuerySpec& q, TempObjects& temps) {
  if (q.checks.empty()) return Status::Ok();
  std::vector<std::string> key_names;
  std::vector<Value> key_values;
  for (const KeyColumn& k : q.keys) {
    key_names.push_back(k.name);
    key_values.push_back(k.value);
  }
  Status s = temps.create_view(q.table, q.table, key_names, q.keys.empty(), {key_values});
  if (s.ok()) s = run_checks(db, "temp." + quote_ident(q.table), q.checks, q.params);
  Status dropped = temps.drop_all();
  return s.ok() ? dropped : s;
}

}  // namespace

Result<WriteResult> SqliteEngine::write_query_partition(const QuerySpec& q) {
  if (Status s = check_keys(q.keys); !s.ok()) return s;
  Transaction txn(db_);
  if (Status s = txn.begin(); !s.ok()) return s;
  TempObjects temps(db_);
  if (Status s = create_input_views(q.inputs, temps, *this); !s.ok()) return s;
  std::vector<TableRead> reads;
  Result<Stmt> select = prepare_query(db_, q, &reads);
  if (!select.ok()) return select.status();
  Result<std::vector<OutputColumn>> columns = output_columns(select->get(), q.keys);
  if (!columns.ok()) return columns.status();
  if (reads_table(reads, q.table)) {
    select = materialize(db_, std::move(*select), *columns, temps);
    if (!select.ok()) return select.status();
  }
  Result<std::unique_ptr<PartitionWriter>> writer =
      PartitionWriter::start(db_, q.table, q.keys, *columns);
  if (!writer.ok()) return writer.status();
  if (Status s = copy_rows(*select, **writer); !s.ok()) {
    return Status::Error(fmt::format("query for `{}`: {}", q.table, s.message()));
  }
  Result<WriteResult> result = (*writer)->finish();
  if (!result.ok()) return result;
  *select = Stmt();
  writer->reset();
  if (Status s = temps.drop_all(); !s.ok()) return s;
  if (Status s = check_partition(db_, q, temps); !s.ok()) return s;
  if (Status s = txn.commit(); !s.ok()) return s;
  return result;
}

}  // namespace dbuild::exec
