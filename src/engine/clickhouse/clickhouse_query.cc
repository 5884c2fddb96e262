#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include <fmt/format.h>

#include "engine/clickhouse/clickhouse_checks.h"
#include "engine/clickhouse/clickhouse_session.h"
#include "engine/clickhouse/clickhouse_write.h"

namespace dbuild::exec {

namespace {

/// How the user's SQL is wrapped to learn its result columns without running it; the newlines
/// keep a trailing "-- comment" from swallowing the closing parenthesis.
constexpr const char* kPreparePrefix = "SELECT * FROM (\n";
constexpr const char* kPrepareSuffix = "\n) LIMIT 0";

/// The SQL without trailing blanks and semicolons.
std::string strip_sql(const std::string& sql) {
  size_t end = sql.find_last_not_of(" \t\r\n;");
  return end == std::string::npos ? "" : sql.substr(0, end + 1);
}

/// Views in the private database, dropped on destruction.
class TempViews {
 public:
  TempViews(ClickhouseSession& s, std::string db) : s_(s), db_(std::move(db)) {}
  ~TempViews() { (void)drop_all(); }
  Status create(const std::string& name, const std::string& select) {
    Result<std::string> r = s_.shard(0).query("DROP TABLE IF EXISTS " + ch_table(db_, name));
    if (r.ok()) r = s_.shard(0).query(fmt::format("CREATE VIEW {} AS {}", ch_table(db_, name), select));
    if (!r.ok()) return r.status();
    names_.push_back(name);
    return Status::Ok();
  }
  Status drop_all() {
    Status result;
    for (const std::string& n : names_) {
      Status st = s_.shard(0).cleanup("DROP TABLE IF EXISTS " + ch_table(db_, n));
      if (!st.ok() && result.ok()) result = st;
    }
    names_.clear();
    return result;
  }

 private:
  ClickhouseSession& s_;
  std::string db_;
  std::vector<std::string> names_;
};

/// The filter of an input view: its listed partitions, every row, or none.
Result<std::string> input_filter(const InputView& in) {
  if (in.all || in.key_columns.empty()) return std::string("1");
  if (in.partitions.empty()) return std::string("0");
  std::vector<std::string> cols, tuples;
  for (const std::string& k : in.key_columns) cols.push_back(ch_ident(k));
  for (const std::vector<Value>& p : in.partitions) {
    if (p.size() != in.key_columns.size()) {
      return Status::Error(fmt::format("a partition of input `{}` has {} key values, not {}", in.table,
                                       p.size(), in.key_columns.size()));
    }
    std::vector<std::string> lits;
    for (const Value& v : p) lits.push_back(ch_literal(v));
    tuples.push_back(lits.size() == 1 ? lits[0] : fmt::format("({})", fmt::join(lits, ", ")));
  }
  std::string lhs = cols.size() == 1 ? cols[0] : fmt::format("({})", fmt::join(cols, ", "));
  return fmt::format("{} IN ({})", lhs, fmt::join(tuples, ", "));
}

Status create_input_views(ClickhouseSession& s, const std::vector<InputView>& inputs, TempViews& views) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const InputView& in = inputs[i];
    for (size_t j = 0; j < i; ++j) {
      if (inputs[j].table == in.table) return Status::Error(fmt::format("input `{}` is given twice", in.table));
    }
    const std::string& source = in.source_table.empty() ? in.table : in.source_table;
    Result<bool> exists = s.table_exists(source);
    if (!exists.ok()) return exists.status();
    if (!*exists) return Status::Error(fmt::format("input table `{}` does not exist", source));
    Result<std::string> filter = input_filter(in);
    if (!filter.ok()) return filter.status();
    Status st = views.create(in.table, fmt::format("SELECT * FROM {} WHERE {}",
                                                   ch_table(s.config().database, source), *filter));
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

/// The word tokens of `sql`, with literals, quoted names kept as names, and comments skipped.
std::vector<std::string> tokens(const std::string& sql) {
  std::vector<std::string> out;
  for (size_t i = 0; i < sql.size();) {
    char c = sql[i];
    if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      i = sql.find('\n', i);
      if (i == std::string::npos) break;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      i = sql.find("*/", i + 2);
      if (i == std::string::npos) break;
      i += 2;
    } else if (c == '\'' || c == '`' || c == '"') {
      std::string text;
      size_t j = i + 1;
      for (; j < sql.size() && sql[j] != c; ++j) {
        if (sql[j] == '\\' && j + 1 < sql.size()) ++j;
        text += sql[j];
      }
      out.push_back(c == '\'' ? "'" : text);
      i = j + 1;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) ++j;
      out.push_back(sql.substr(i, j - i));
      i = j;
    } else {
      if (!std::isspace(static_cast<unsigned char>(c))) out.push_back(std::string(1, c));
      ++i;
    }
  }
  return out;
}

bool keyword(const std::string& t, const char* k) {
  return t.size() == std::strlen(k) && strncasecmp(t.c_str(), k, t.size()) == 0;
}

/// Tables named after FROM or JOIN (not subqueries or table functions), in first-use order.
std::vector<std::string> tables_in(const std::string& sql) {
  std::vector<std::string> t = tokens(sql), out;
  for (size_t i = 0; i + 1 < t.size(); ++i) {
    if (!keyword(t[i], "FROM") && !keyword(t[i], "JOIN")) continue;
    size_t j = i + 1;
    std::string name = t[j];
    if (name == "(" || name == "'") continue;
    while (j + 2 < t.size() && t[j + 1] == ".") name += "." + t[j += 2];
    if (j + 1 < t.size() && t[j + 1] == "(") continue;
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

/// "Syntax error: failed at position N ..." → the byte offset in the user's SQL, or -1.
int error_offset(const std::string& message, size_t prefix, size_t length) {
  const std::string marker = "failed at position ";
  size_t at = message.find(marker);
  if (at == std::string::npos) return -1;
  long pos = std::strtol(message.c_str() + at + marker.size(), nullptr, 10) - 1 - static_cast<long>(prefix);
  if (pos < 0) return -1;
  return static_cast<int>(std::min<long>(pos, static_cast<long>(length)));  // past the end: at it
}

/// The message without the "clickhouse host:port: " prefix.
std::string bare_message(const std::string& m) {
  if (m.rfind("clickhouse ", 0) != 0) return m;
  size_t colon = m.find(": ");
  return colon == std::string::npos ? m : m.substr(colon + 2);
}

}  // namespace

Result<PreparedInfo> ClickhouseSession::prepare(const std::string& sql, SqlError* error) {
  std::string db = config_.database;
  if (scratch_ || !private_db_.empty()) {
    Result<std::string> p = private_database();
    if (!p.ok()) return p.status();
    if (Status st = expose_stored_tables(); !st.ok()) return st;
    db = *p;
  }
  std::string body = strip_sql(sql);
  Result<TsvTable> t = select(kPreparePrefix + body + kPrepareSuffix, db, true);
  if (!t.ok()) {
    std::string message = bare_message(t.status().message());
    if (error) *error = {message, error_offset(message, std::strlen(kPreparePrefix), body.size())};
    return Status::Error(message);
  }
  PreparedInfo info;
  info.columns = t->names;
  info.tables = tables_in(body);
  for (const std::string& table : info.tables) {
    if (Status st = add_base_tables(table, db, 0, &info.base_tables); !st.ok()) return st;
  }
  return info;
}

Status ClickhouseSession::add_base_tables(const std::string& name, const std::string& db, int depth,
                                          std::vector<std::string>* out) {
  size_t dot = name.find('.');
  std::string database = dot == std::string::npos ? db : name.substr(0, dot);
  std::string table = dot == std::string::npos ? name : name.substr(dot + 1);
  Result<TsvTable> t = select(fmt::format("SELECT engine FROM system.tables WHERE database = {} AND name = {}",
                                          ch_string(database), ch_string(table)));
  if (!t.ok()) return t.status();
  if (depth < 8 && !t->rows.empty() && t->rows[0][0] == "View") {
    Result<TsvTable> create = select("SHOW CREATE TABLE " + ch_table(database, table));
    if (!create.ok()) return create.status();
    for (const std::string& read : tables_in(create->rows.at(0).at(0))) {
      if (Status st = add_base_tables(read, database, depth + 1, out); !st.ok()) return st;
    }
    return Status::Ok();
  }
  // Names in the stored or the private database are shown unqualified (views in the private
  // database expose the stored tables of the same name).
  std::string shown = database == config_.database || database == private_db_ ? table : database + "." + table;
  if (std::find(out->begin(), out->end(), shown) == out->end()) out->push_back(shown);
  return Status::Ok();
}

Result<WriteResult> ClickhouseSession::write_query_partition(const QuerySpec& q) {
  if (Status st = ch_check_keys(q.keys); !st.ok()) return st;
  Result<std::string> db = private_database();
  if (!db.ok()) return db.status();
  TempViews views(*this, *db);
  if (Status st = create_input_views(*this, q.inputs, views); !st.ok()) return st;
  if (Status st = expose_stored_tables(); !st.ok()) return st;
  std::string sql = strip_sql(q.sql);
  Result<TsvTable> shape = select(kPreparePrefix + sql + kPrepareSuffix, *db, true);
  if (!shape.ok()) return Status::Error(fmt::format("query for `{}`: {}", q.table, shape.status().message()));
  std::vector<ChColumn> data;
  for (size_t i = 0; i < shape->names.size(); ++i) {
    data.push_back({shape->names[i], ch_storage_type(shape->types[i])});
  }
  if (Status st = ch_check_clash(data, q.keys); !st.ok()) {
    return Status::Error(fmt::format("query for `{}`: {}", q.table, st.message()));
  }
  if (Status st = ch_ensure_table(*this, q.table, q.keys, data); !st.ok()) return st;
  ChStaging stage(*this);
  if (Status st = stage.create(q.table); !st.ok()) return st;
  std::vector<std::string> names, lits;
  for (const KeyColumn& k : q.keys) {
    names.push_back(ch_ident(k.name));
    lits.push_back(ch_literal(k.value));
  }
  for (const ChColumn& c : data) names.push_back(ch_ident(c.name));
  lits.push_back("*");
  Result<std::string> r = shard(0).query(
      fmt::format("INSERT INTO {} ({}) SELECT {} FROM (\n{}\n)", ch_table(config_.database, stage.distributed()),
                  fmt::join(names, ", "), fmt::join(lits, ", "), sql),
      {{"database", *db}});
  if (!r.ok()) return Status::Error(fmt::format("query for `{}`: {}", q.table, r.status().message()));
  if (Status st = views.drop_all(); !st.ok()) return st;
  if (!q.checks.empty()) {
    Status st = views.create(q.table, "SELECT * FROM " + ch_table(config_.database, stage.distributed()));
    if (st.ok()) st = ch_run_checks(*this, ch_table(*db, q.table), *db, q.checks);
    if (Status dropped = views.drop_all(); st.ok()) st = dropped;
    if (!st.ok()) return st;
  }
  return stage.swap_into(q.table, q.keys);
}

}  // namespace dbuild::exec
