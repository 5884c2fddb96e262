// PgSession: prepare (columns and tables read, nothing runs), scratch tables and run_select.
#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "engine/postgres/pg_copy.h"
#include "engine/postgres/pg_schema.h"
#include "engine/postgres/pg_session.h"
#include "engine/postgres/pg_sql_text.h"

namespace dbuild::exec::pg {

namespace {

/// The relations a probe view's query names directly (CTE names are not relations), and
/// those reached through views, at any depth, that are not views: what is actually scanned.
constexpr const char* kReadsSql = R"(
WITH RECURSIVE direct AS (
  SELECT DISTINCT d.refobjid AS oid
  FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON d.objid = r.oid
  WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
    AND r.ev_class = 'pg_temp.dbuild_probe'::regclass AND d.refobjid <> r.ev_class),
reach AS (
  SELECT c.oid, c.relkind, true AS is_direct FROM direct JOIN pg_catalog.pg_class c ON c.oid = direct.oid
  UNION
  SELECT c.oid, c.relkind, false FROM reach
    JOIN pg_catalog.pg_rewrite r ON r.ev_class = reach.oid AND reach.relkind = 'v'
    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
      AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> r.ev_class
    JOIN pg_catalog.pg_class c ON c.oid = d.refobjid)
SELECT DISTINCT c.relname, reach.is_direct, reach.relkind <> 'v'
FROM reach JOIN pg_catalog.pg_class c ON c.oid = reach.oid
WHERE reach.relkind IN ('r', 'p', 'v', 'm', 'f'))";

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

/// Where `name` first occurs in `text` as a whole word; text.size() if nowhere.
size_t first_word(const std::string& text, const std::string& name) {
  for (size_t at = text.find(name); at != std::string::npos; at = text.find(name, at + 1)) {
    bool before = at > 0 && word_char(text[at - 1]);
    bool after = at + name.size() < text.size() && word_char(text[at + name.size()]);
    if (!before && !after) return at;
  }
  return text.size();
}

/// Sorts names by where they first occur in `sql` (ignoring case); names not found go last.
void order_by_use(std::vector<std::string>& names, const std::string& sql) {
  std::string text = lower(sql);
  auto first_use = [&](const std::string& n) { return first_word(text, lower(n)); };
  std::stable_sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    size_t pa = first_use(a), pb = first_use(b);
    return pa != pb ? pa < pb : a < b;
  });
}

/// The SQL types of the unnamed statement's parameters, by number.
Result<std::map<int, std::string>> parameter_types(PgConn& conn, const PgResult& described) {
  std::map<int, std::string> out;
  int n = PQnparams(described.get());
  if (n == 0) return out;
  std::vector<std::string> oids;
  for (int i = 0; i < n; ++i) oids.push_back(std::to_string(PQparamtype(described.get(), i)));
  PgParams p;
  p.add(Value(fmt::format("{{{}}}", fmt::join(oids, ","))));
  Result<PgResult> r = conn.exec(
      "SELECT pg_catalog.format_type(t, NULL) FROM unnest($1::oid[]) WITH ORDINALITY AS x(t, i) ORDER BY i", p);
  if (!r.ok()) return r.status();
  for (int i = 0; i < r->rows(); ++i) out[i + 1] = r->text(i, 0);
  return out;
}

/// The SQL types of the unnamed statement's result columns, in order.
Result<std::vector<std::string>> result_types(PgConn& conn, const PgResult& described) {
  std::vector<std::string> oids, mods;
  for (int i = 0; i < described.cols(); ++i) {
    oids.push_back(std::to_string(PQftype(described.get(), i)));
    mods.push_back(std::to_string(PQfmod(described.get(), i)));
  }
  PgParams p;
  p.add(Value(fmt::format("{{{}}}", fmt::join(oids, ","))));
  p.add(Value(fmt::format("{{{}}}", fmt::join(mods, ","))));
  Result<PgResult> r = conn.exec(
      "SELECT pg_catalog.format_type(t, m) FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS x(t, m, i) "
      "ORDER BY i", p);
  if (!r.ok()) return r.status();
  std::vector<std::string> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(r->text(i, 0));
  return out;
}

/// The SQL type a scratch column is created with: bigint when every value is an integer,
/// double precision when numbers include a double, text otherwise (and when all are NULL).
std::string scratch_type(const RowSet& rows, size_t column) {
  bool ints = false, doubles = false, texts = false;
  for (const std::vector<Value>& row : rows.rows) {
    const Value& v = row[column];
    ints |= std::holds_alternative<int64_t>(v);
    doubles |= std::holds_alternative<double>(v);
    texts |= std::holds_alternative<std::string>(v);
  }
  if (texts || (!ints && !doubles)) return "text";
  return doubles ? "double precision" : "bigint";
}

}  // namespace

Result<PreparedInfo> PgSession::prepare(const std::string& sql, SqlError* error) {
  std::string body = trim_statement(sql);
  PgTxn txn(*conn_);
  Status s = txn.begin();
  int position = 0;
  Result<PreparedInfo> info = s.ok() ? prepare_in_txn(body, &position) : Result<PreparedInfo>(s);
  if (!info.ok() && error) {
    error->message = info.status().message();
    error->offset = byte_offset(body, position);
  }
  return info;  // txn rolls back: the probe view and everything else are gone
}

Result<PreparedInfo> PgSession::prepare_in_txn(const std::string& sql, int* position) {
  if (sql.empty()) return Status::Error("the SQL is empty");
  if (Status s = conn_->prepare(sql, position); !s.ok()) return s;
  *position = 0;
  Result<PgResult> described = conn_->describe();
  if (!described.ok()) return described.status();
  if (described->cols() == 0) return Status::Error("the SQL returns no columns; only a SELECT may run here");
  Status nested = conn_->prepare(fmt::format("SELECT * FROM (\n{}\n) AS \"dbuild_query\"", sql));
  if (!nested.ok()) {
    return Status::Error(fmt::format("only a single read-only SELECT (or WITH ... SELECT) may run here ({})",
                                     nested.message()));
  }
  PreparedInfo info;
  for (int i = 0; i < described->cols(); ++i) info.columns.push_back(described->name(i));
  Result<std::vector<std::string>> column_types = result_types(*conn_, *described);
  if (!column_types.ok()) return column_types.status();
  info.column_types = std::move(*column_types);
  Result<std::map<int, std::string>> types = parameter_types(*conn_, *described);
  if (!types.ok()) return types.status();
  // Views take no parameters: each $N becomes a typed NULL for the probe.
  std::string probe = replace_parameters(sql, [&](int n) {
    auto it = types->find(n);
    return fmt::format("CAST(NULL AS {})", it == types->end() ? "text" : it->second);
  });
  if (Status s = read_tables(probe, info); !s.ok()) return s;
  return info;
}

/// Fills info.tables and info.base_tables from the dependencies of a temporary view over `sql`.
Status PgSession::read_tables(const std::string& sql, PreparedInfo& info) {
  Result<PgResult> r = conn_->exec(
      fmt::format("CREATE TEMP VIEW \"dbuild_probe\" AS SELECT 1 FROM (\n{}\n) AS \"dbuild_query\"", sql));
  if (!r.ok()) return r.status();
  r = conn_->exec(kReadsSql);
  if (!r.ok()) return r.status();
  for (int i = 0; i < r->rows(); ++i) {
    std::string name = r->text(i, 0);
    auto add_once = [&](std::vector<std::string>& list) {
      if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
    };
    if (r->text(i, 1) == "t") add_once(info.tables);
    if (r->text(i, 2) == "t") add_once(info.base_tables);
  }
  order_by_use(info.tables, sql);
  order_by_use(info.base_tables, sql);
  return Status::Ok();
}

Status PgSession::create_scratch_table(const std::string& name, const RowSet& rows) {
  for (const std::vector<Value>& row : rows.rows) {
    if (row.size() != rows.columns.size()) {
      return Status::Error(fmt::format("scratch table `{}`: a row has {} values for {} columns", name,
                                       row.size(), rows.columns.size()));
    }
  }
  std::vector<std::string> defs, names;
  for (size_t i = 0; i < rows.columns.size(); ++i) {
    // A type given is an engine type name this engine produced (prepare, column_type).
    std::string type = i < rows.types.size() && !rows.types[i].empty() ? rows.types[i] : scratch_type(rows, i);
    defs.push_back(fmt::format("{} {}", quote_ident(rows.columns[i]), type));
    names.push_back(quote_ident(rows.columns[i]));
  }
  std::string table = "pg_temp." + quote_ident(name);
  Result<PgResult> r = conn_->exec("DROP TABLE IF EXISTS " + table);
  if (r.ok()) r = conn_->exec(fmt::format("CREATE TEMP TABLE {} ({})", quote_ident(name), fmt::join(defs, ", ")));
  if (!r.ok()) return Status::Error(fmt::format("scratch table `{}`: {}", name, r.status().message()));
  if (rows.rows.empty() || rows.columns.empty()) return Status::Ok();
  Status s = copy_rows(*conn_, fmt::format("COPY {} ({}) FROM STDIN", table, fmt::join(names, ", ")), rows.rows);
  if (!s.ok()) return Status::Error(fmt::format("scratch table `{}`: {}", name, s.message()));
  return Status::Ok();
}

Result<RowSet> PgSession::run_select(const std::string& sql, const std::vector<Value>& params) {
  std::string body = trim_statement(sql);
  Result<PgParams> p = bind_user_params(body, params);
  if (!p.ok()) return p.status();
  PgTxn txn(*conn_);
  if (Status s = txn.begin(/*read_only=*/true); !s.ok()) return s;
  Result<PgResult> r =
      conn_->exec(fmt::format("SELECT * FROM (\n{}\n) AS \"dbuild_query\"", body), *p);
  if (!r.ok()) return r.status();
  RowSet out;
  for (int c = 0; c < r->cols(); ++c) out.columns.push_back(r->name(c));
  out.rows.resize(static_cast<size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) {
    for (int c = 0; c < r->cols(); ++c) out.rows[i].push_back(r->value(i, c));
  }
  return out;
}

}  // namespace dbuild::exec::pg
