#include "engine/sqlite/sqlite_checks.h"

#include <fmt/format.h>

#include "engine/sqlite/sqlite_engine.h"
#include "engine/sqlite/sqlite_reads.h"
#include "engine/sqlite/sqlite_stmt.h"

namespace dbuild::exec {

namespace {

constexpr int kExamples = 5;

std::string quoted_list(const std::vector<std::string>& columns) {
  std::vector<std::string> q;
  for (const std::string& c : columns) q.push_back(quote_ident(c));
  return fmt::format("{}", fmt::join(q, ", "));
}

/// Renders the current row's first `n` columns: a single value, or a tuple "(1, 'x')".
std::string render_row(const Stmt& st, int n) {
  if (n == 1) return format_value(st.column(0));
  std::vector<std::string> parts;
  for (int i = 0; i < n; ++i) parts.push_back(format_value(st.column(i)));
  return fmt::format("({})", fmt::join(parts, ", "));
}

/// Runs our own check SQL; every row is one offending value whose last column is its row count.
/// Returns "" when there are none, else "<total> rows <what> (<n> values), e.g. v (3 rows), ...".
Result<std::string> offending(sqlite3* db, const std::string& sql, const std::vector<Value>& binds,
                              const char* what) {
  Result<Stmt> st = Stmt::prepare(db, sql);
  if (!st.ok()) return st.status();
  for (size_t i = 0; i < binds.size(); ++i) {
    if (Status s = st->bind(static_cast<int>(i) + 1, binds[i]); !s.ok()) return s;
  }
  int64_t total = 0, values = 0;
  std::vector<std::string> examples;
  int n = st->column_count() - 1;
  for (;;) {
    Result<bool> row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    int64_t count = sqlite3_column_int64(st->get(), n);
    total += count;
    ++values;
    if (examples.size() < kExamples) examples.push_back(fmt::format("{} ({} rows)", render_row(*st, n), count));
  }
  if (total == 0) return std::string();
  return fmt::format("{} rows {} ({} values), e.g. {}", total, what, values,
                     fmt::join(examples, ", "));
}

Result<std::string> check_not_null(sqlite3* db, const std::string& rel, const CheckSpec& c) {
  std::vector<std::string> failures;
  for (const std::string& col : c.columns) {
    Result<Stmt> st = Stmt::prepare(
        db, fmt::format("SELECT count(*) FROM {} WHERE {} IS NULL", rel, quote_ident(col)));
    if (!st.ok()) return st.status();
    Result<bool> row = st->step();
    if (!row.ok()) return row.status();
    int64_t n = sqlite3_column_int64(st->get(), 0);
    if (n > 0) failures.push_back(fmt::format("{} rows have NULL in `{}`", n, col));
  }
  return fmt::format("{}", fmt::join(failures, "; "));
}

Result<std::string> check_unique(sqlite3* db, const std::string& rel, const CheckSpec& c) {
  std::string cols = quoted_list(c.columns);
  std::vector<std::string> not_null;
  for (const std::string& col : c.columns) not_null.push_back(quote_ident(col) + " IS NOT NULL");
  return offending(db,
                   fmt::format("SELECT {0}, count(*) FROM {1} WHERE {2} GROUP BY {0} "
                               "HAVING count(*) > 1 ORDER BY count(*) DESC, {0}",
                               cols, rel, fmt::join(not_null, " AND ")),
                   {}, "share a value with another row");
}

Result<std::string> check_accepted(sqlite3* db, const std::string& rel, const CheckSpec& c) {
  if (c.columns.size() != 1) return Status::Error("accepted_values checks exactly one column");
  std::vector<std::string> params;
  for (size_t i = 1; i <= c.values.size(); ++i) params.push_back(fmt::format("?{}", i));
  std::string col = quote_ident(c.columns[0]);
  std::string not_in =
      c.values.empty() ? "" : fmt::format(" AND {} NOT IN ({})", col, fmt::join(params, ", "));
  return offending(db,
                   fmt::format("SELECT {0}, count(*) FROM {1} WHERE {0} IS NOT NULL{2} "
                               "GROUP BY {0} ORDER BY count(*) DESC, {0}",
                               col, rel, not_in),
                   c.values, "have other values");
}

Result<std::string> check_row_count(sqlite3* db, const std::string& rel, const CheckSpec& c) {
  Result<Stmt> st = Stmt::prepare(db, fmt::format("SELECT count(*) FROM {}", rel));
  if (!st.ok()) return st.status();
  Result<bool> row = st->step();
  if (!row.ok()) return row.status();
  int64_t n = sqlite3_column_int64(st->get(), 0);
  if (compare(n, c.op, c.n)) return std::string();
  return fmt::format("the partition has {} rows", n);
}

Result<std::string> check_custom(sqlite3* db, const CheckSpec& c, const std::vector<Value>& params) {
  std::vector<TableRead> reads;
  Result<Stmt> st = prepare_user_sql(db, c.sql, &reads, nullptr);
  if (!st.ok()) return st.status();
  int count = sqlite3_bind_parameter_count(st->get());
  for (int i = 1; i <= count && static_cast<size_t>(i) <= params.size(); ++i) {
    if (Status s = st->bind(i, params[i - 1]); !s.ok()) return s;
  }
  int64_t rows = 0;
  std::vector<std::string> examples;
  for (;;) {
    Result<bool> row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (++rows <= kExamples) examples.push_back(render_row(*st, st->column_count()));
  }
  if (rows == 0) return std::string();
  return fmt::format("{} violating rows, e.g. {}", rows, fmt::join(examples, ", "));
}

/// "" when the check passes, else what failed.
Result<std::string> run_check(sqlite3* db, const std::string& rel, const CheckSpec& c,
                              const std::vector<Value>& params) {
  switch (c.kind) {
    case CheckKind::NotNull: return check_not_null(db, rel, c);
    case CheckKind::Unique: return check_unique(db, rel, c);
    case CheckKind::AcceptedValues: return check_accepted(db, rel, c);
    case CheckKind::RowCount: return check_row_count(db, rel, c);
    case CheckKind::CustomSql: return check_custom(db, c, params);
  }
  return Status::Error("unknown check kind");
}

}  // namespace

Status run_checks(sqlite3* db, const std::string& relation, const std::vector<CheckSpec>& checks,
                  const std::vector<Value>& params) {
  CheckReport report;
  for (const CheckSpec& c : checks) {
    Result<std::string> r = run_check(db, relation, c, params);
    report.add(c, r);
  }
  return report.status();
}

}  // namespace dbuild::exec
