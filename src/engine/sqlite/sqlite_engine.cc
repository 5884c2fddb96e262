#include "engine/sqlite/sqlite_engine.h"

#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include "base/interrupt.h"
#include "engine/sqlite/sqlite_functions.h"
#include "engine/sqlite/sqlite_reads.h"
#include "engine/sqlite/sqlite_schema.h"
#include "engine/sqlite/sqlite_writer.h"

namespace dbuild::exec {

SqliteEngine::SqliteEngine(sqlite3* db, std::unique_ptr<RegexCache> cache)
    : db_(db), regex_cache_(std::move(cache)) {}

SqliteEngine::~SqliteEngine() { sqlite3_close_v2(db_); }

Result<std::unique_ptr<SqliteEngine>> SqliteEngine::open(const std::string& path,
                                                         const EngineOptions& options) {
  sqlite3* db = nullptr;
  // NOMUTEX: the connection is used by one thread at a time (see the header), so SQLite's
  // per-call connection mutex is not needed. An existing file this user cannot write (or in a
  // directory it cannot write, where WAL's -shm cannot be made) is opened read-only: reading
  // commands work, writes fail with SQLite's "readonly database".
  bool read_only = path != ":memory:" && ::access(path.c_str(), F_OK) == 0 &&
                   (::access(path.c_str(), W_OK) != 0 ||
                    ::access(std::filesystem::path(path).parent_path().empty()
                                 ? "."
                                 : std::filesystem::path(path).parent_path().c_str(),
                             W_OK) != 0);
  int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  std::string name = path;
  if (read_only && ::access((path + "-shm").c_str(), F_OK) != 0) {
    // Without a -shm file SQLite cannot read a WAL database it may not write unless told the
    // file is immutable; with no -shm there is no live writer (it would have made one).
    name = "file:";
    for (char c : std::filesystem::absolute(path).string())
      name += c == '?' || c == '#' || c == '%' ? fmt::format("%{:02X}", static_cast<unsigned char>(c)) : std::string(1, c);
    name += "?immutable=1";
    flags |= SQLITE_OPEN_URI;
  }
  int rc = sqlite3_open_v2(name.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<SqliteEngine> engine(new SqliteEngine(db, std::make_unique<RegexCache>()));
  if (rc != SQLITE_OK) {
    return Status::Error(fmt::format("{}: cannot open the database: {}", path,
                                     db ? sqlite3_errmsg(db) : "out of memory"));
  }
  Status s = read_only ? engine->configure_read_only(options) : engine->configure(options);
  if (!s.ok()) return Status::Error(fmt::format("{}: {}", path, s.message()));
  return engine;
}

/// Settings of every connection, read-only or not.
void SqliteEngine::configure_common(const EngineOptions& options) {
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options.busy_timeout_ms);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  // A double-quoted name that is not a column must be an error, never a string literal:
  // otherwise a misspelled column in a query or check silently compares with a constant.
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
  // A SIGINT or SIGTERM aborts the running statement; its transaction then rolls back.
  sqlite3_progress_handler(db_, 10000, [](void*) { return interrupt_signal() != 0 ? 1 : 0; }, nullptr);
}

Status SqliteEngine::configure_read_only(const EngineOptions& options) {
  configure_common(options);
  Status s = exec_sql(db_, "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536");
  if (!s.ok()) return s;
  return register_functions(db_, regex_cache_.get());
}

Status SqliteEngine::configure(const EngineOptions& options) {
  configure_common(options);
  Result<Stmt> wal = Stmt::prepare(db_, "PRAGMA journal_mode=WAL");
  if (!wal.ok()) return wal.status();
  Result<bool> row = wal->step();
  if (!row.ok()) return row.status();
  std::string mode = *row ? std::get<std::string>(wal->column(0)) : "";
  if (mode != "wal" && mode != "memory") {
    return Status::Error(fmt::format("cannot use WAL mode (journal mode is '{}')", mode));
  }
  Status s = exec_sql(db_, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF; "
                           "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536");
  if (!s.ok()) return s;
  return register_functions(db_, regex_cache_.get());
}

Result<bool> SqliteEngine::table_exists(const std::string& table) {
  Result<Stmt> st = Stmt::prepare(
      db_, "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE");
  if (!st.ok()) return st.status();
  Status s = st->bind(1, Value(table));
  if (!s.ok()) return s;
  return st->step();
}

Result<std::vector<std::string>> SqliteEngine::table_columns(const std::string& table) {
  Result<std::vector<TableColumn>> columns = read_columns(db_, table);
  if (!columns.ok()) return columns.status();
  std::vector<std::string> names;
  for (const TableColumn& c : *columns) names.push_back(c.name);
  return names;
}

namespace {

Status no_such_table(const std::string& table) {
  return Status::Error(fmt::format("table `{}` does not exist", table));
}

}  // namespace

Result<std::vector<std::vector<Value>>> SqliteEngine::list_partitions(
    const std::string& table, const std::vector<std::string>& key_columns) {
  Result<bool> exists = table_exists(table);
  if (!exists.ok()) return exists.status();
  if (!*exists) return no_such_table(table);
  std::vector<std::string> quoted;
  for (const std::string& k : key_columns) quoted.push_back(quote_ident(k));
  if (quoted.empty()) return std::vector<std::vector<Value>>{};
  std::string cols = fmt::format("{}", fmt::join(quoted, ", "));
  Result<Stmt> st = Stmt::prepare(db_, fmt::format("SELECT DISTINCT {0} FROM main.{1} ORDER BY {0}",
                                                   cols, quote_ident(table)));
  if (!st.ok()) return st.status();
  std::vector<std::vector<Value>> out;
  for (;;) {
    Result<bool> row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    std::vector<Value>& tuple = out.emplace_back();
    for (int i = 0; i < st->column_count(); ++i) tuple.push_back(st->column(i));
  }
}

Status SqliteEngine::delete_partition(const std::string& table, const std::vector<KeyColumn>& keys) {
  Status s = check_keys(keys);
  if (!s.ok()) return s;
  Result<bool> exists = table_exists(table);
  if (!exists.ok()) return exists.status();
  if (!*exists) return Status::Ok();
  Result<Stmt> st = Stmt::prepare(
      db_, fmt::format("DELETE FROM main.{} WHERE {}", quote_ident(table), key_predicate(keys, 1)));
  if (!st.ok()) return st.status();
  s = bind_keys(*st, keys, 1);
  return s.ok() ? st->run() : s;
}

Result<WriteResult> SqliteEngine::fingerprint_partition(const std::string& table,
                                                        const std::vector<KeyColumn>& keys) {
  Status s = check_keys(keys);
  if (!s.ok()) return s;
  Result<bool> exists = table_exists(table);
  if (!exists.ok()) return exists.status();
  if (!*exists) return no_such_table(table);
  return fingerprint_stored(db_, table, keys);
}

namespace {

const char* decl_type(ColumnType t) {
  switch (t) {
    case ColumnType::Int:
    case ColumnType::Bool: return "INTEGER";
    case ColumnType::Float: return "REAL";
    default: return "TEXT";
  }
}

/// Streams every row of `loader` into `writer`.
Status copy_rows(Loader& loader, PartitionWriter& writer) {
  std::vector<Value> row;
  for (;;) {
    Result<bool> more = loader.next(&row);
    if (!more.ok()) return more.status();
    if (!*more) return Status::Ok();
    Status s = writer.add(row);
    if (!s.ok()) return s;
  }
}

}  // namespace

Result<WriteResult> SqliteEngine::load_partition(const std::string& table,
                                                 const std::vector<KeyColumn>& keys,
                                                 const LoadSpec& spec, const std::string& file_path) {
  Status s = check_keys(keys);
  if (!s.ok()) return s;
  Result<std::unique_ptr<Loader>> loader = Loader::open(spec, file_path);
  if (!loader.ok()) return loader.status();
  std::vector<OutputColumn> columns;
  std::vector<std::string> names;
  for (const ColumnSpec& c : (*loader)->columns()) {
    columns.push_back({c.name, decl_type(c.type)});
    names.push_back(c.name);
  }
  if (std::string clash = key_clash(names, keys); !clash.empty()) {
    return Status::Error(fmt::format(
        "{}: column `{}` clashes with the partition key; dbuild fills key columns — rename or "
        "drop the column",
        file_path, clash));
  }
  Transaction txn(db_);
  if (s = txn.begin(); !s.ok()) return s;
  Result<std::unique_ptr<PartitionWriter>> writer = PartitionWriter::start(db_, table, keys, columns);
  if (!writer.ok()) return writer.status();
  if (s = copy_rows(**loader, **writer); !s.ok()) return s;
  Result<WriteResult> result = (*writer)->finish();
  if (!result.ok()) return result;
  writer->reset();
  if (s = txn.commit(); !s.ok()) return s;
  result->skipped_malformed = (*loader)->stats().skipped_malformed;
  result->skipped_lines_sample = (*loader)->stats().skipped_lines_sample;
  return result;
}

Result<PreparedInfo> SqliteEngine::prepare(const std::string& sql, SqlError* error) {
  std::vector<TableRead> reads;
  Result<Stmt> st = prepare_user_sql(db_, sql, &reads, error);
  if (!st.ok()) return st.status();
  PreparedInfo info;
  for (int i = 0; i < st->column_count(); ++i) info.columns.emplace_back(sqlite3_column_name(st->get(), i));
  auto add_once = [](std::vector<std::string>& list, const std::string& name) {
    for (const std::string& n : list) {
      if (n == name) return;
    }
    list.push_back(name);
  };
  for (const TableRead& r : reads) {
    if (r.via.empty()) add_once(info.tables, r.table);
    Result<std::string> type = object_type(r.schema, r.table);
    if (!type.ok()) return type.status();
    if (*type == "table") add_once(info.base_tables, r.table);
  }
  return info;
}

Result<std::string> SqliteEngine::object_type(const std::string& schema, const std::string& name) {
  // SQLite names no schema for a table the query reads no column of (`SELECT count(*) FROM t`):
  // then the name resolves as SQLite resolves it, temp schema first.
  std::vector<std::string> schemas = {schema};
  if (schema.empty()) schemas = {"temp", "main"};
  for (const std::string& s : schemas) {
    Result<Stmt> type = Stmt::prepare(
        db_, fmt::format("SELECT type FROM {}.sqlite_schema WHERE name = ?1 COLLATE NOCASE", quote_ident(s)));
    if (!type.ok()) return type.status();
    if (Status st = type->bind(1, Value(name)); !st.ok()) return st;
    Result<bool> row = type->step();
    if (!row.ok()) return row.status();
    if (!*row) continue;
    Value v = type->column(0);
    const std::string* text = std::get_if<std::string>(&v);
    return text ? *text : std::string();
  }
  return std::string();
}

}  // namespace dbuild::exec
