#include "engine/postgres/pg_checks.h"

#include <fmt/format.h>

#include "engine/postgres/pg_sql_text.h"

namespace dbuild::exec::pg {

namespace {

constexpr int kExamples = 5;

std::string quoted_list(const std::vector<std::string>& columns) {
  std::vector<std::string> q;
  for (const std::string& c : columns) q.push_back(quote_ident(c));
  return fmt::format("{}", fmt::join(q, ", "));
}

/// Renders the first `n` columns of row `row`: a single value, or a tuple "(1, 'x')".
std::string render_row(const PgResult& r, int row, int n) {
  if (n == 1) return format_value(r.value(row, 0));
  std::vector<std::string> parts;
  for (int i = 0; i < n; ++i) parts.push_back(format_value(r.value(row, i)));
  return fmt::format("({})", fmt::join(parts, ", "));
}

/// Runs our own check SQL; every row is one offending value whose last column is its row count.
/// Returns "" when there are none, else "<total> rows <what> (<n> values), e.g. v (3 rows), ...".
Result<std::string> offending(PgConn& conn, const std::string& sql, const PgParams& params,
                              const char* what) {
  Result<PgResult> r = conn.exec(sql, params);
  if (!r.ok()) return r.status();
  int64_t total = 0;
  std::vector<std::string> examples;
  int n = r->cols() - 1;
  for (int i = 0; i < r->rows(); ++i) {
    int64_t count = r->int64(i, n);
    total += count;
    if (examples.size() < kExamples) examples.push_back(fmt::format("{} ({} rows)", render_row(*r, i, n), count));
  }
  if (total == 0) return std::string();
  return fmt::format("{} rows {} ({} values), e.g. {}", total, what, r->rows(), fmt::join(examples, ", "));
}

Result<std::string> check_not_null(PgConn& conn, const std::string& rel, const CheckSpec& c) {
  std::vector<std::string> failures;
  for (const std::string& col : c.columns) {
    Result<PgResult> r =
        conn.exec(fmt::format("SELECT count(*) FROM {} WHERE {} IS NULL", rel, quote_ident(col)));
    if (!r.ok()) return r.status();
    int64_t n = r->int64(0, 0);
    if (n > 0) failures.push_back(fmt::format("{} rows have NULL in `{}`", n, col));
  }
  return fmt::format("{}", fmt::join(failures, "; "));
}

Result<std::string> check_unique(PgConn& conn, const std::string& rel, const CheckSpec& c) {
  std::string cols = quoted_list(c.columns);
  std::vector<std::string> not_null;
  for (const std::string& col : c.columns) not_null.push_back(quote_ident(col) + " IS NOT NULL");
  return offending(conn,
                   fmt::format("SELECT {0}, count(*) FROM {1} WHERE {2} GROUP BY {0} "
                               "HAVING count(*) > 1 ORDER BY count(*) DESC, {0}",
                               cols, rel, fmt::join(not_null, " AND ")),
                   {}, "share a value with another row");
}

Result<std::string> check_accepted(PgConn& conn, const std::string& rel, const CheckSpec& c) {
  if (c.columns.size() != 1) return Status::Error("accepted_values checks exactly one column");
  std::vector<std::string> params;
  PgParams p;
  for (size_t i = 1; i <= c.values.size(); ++i) {
    params.push_back(fmt::format("${}", i));
    p.add(c.values[i - 1]);
  }
  std::string col = quote_ident(c.columns[0]);
  std::string not_in =
      c.values.empty() ? "" : fmt::format(" AND {} NOT IN ({})", col, fmt::join(params, ", "));
  return offending(conn,
                   fmt::format("SELECT {0}, count(*) FROM {1} WHERE {0} IS NOT NULL{2} "
                               "GROUP BY {0} ORDER BY count(*) DESC, {0}",
                               col, rel, not_in),
                   p, "have other values");
}

Result<std::string> check_row_count(PgConn& conn, const std::string& rel, const CheckSpec& c) {
  Result<PgResult> r = conn.exec(fmt::format("SELECT count(*) FROM {}", rel));
  if (!r.ok()) return r.status();
  int64_t n = r->int64(0, 0);
  if (compare(n, c.op, c.n)) return std::string();
  return fmt::format("the partition has {} rows", n);
}

Result<std::string> check_custom(PgConn& conn, const CheckSpec& c, const std::vector<Value>& params) {
  std::string sql = trim_statement(question_to_dollar(c.sql));
  Result<PgParams> p = bind_user_params(sql, params);
  if (!p.ok()) return p.status();
  // Nested in a subquery: only a read-only SELECT parses there (no second statement, no DML).
  Result<PgResult> r = conn.exec(
      fmt::format("SELECT *, count(*) OVER () FROM (\n{}\n) AS dbuild_check LIMIT {}", sql, kExamples), *p);
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::string();
  int n = r->cols() - 1;
  std::vector<std::string> examples;
  for (int i = 0; i < r->rows(); ++i) examples.push_back(render_row(*r, i, n));
  return fmt::format("{} violating rows, e.g. {}", r->int64(0, n), fmt::join(examples, ", "));
}

/// "" when the check passes, else what failed.
Result<std::string> run_check(PgConn& conn, const std::string& rel, const CheckSpec& c,
                              const std::vector<Value>& params) {
  switch (c.kind) {
    case CheckKind::NotNull: return check_not_null(conn, rel, c);
    case CheckKind::Unique: return check_unique(conn, rel, c);
    case CheckKind::AcceptedValues: return check_accepted(conn, rel, c);
    case CheckKind::RowCount: return check_row_count(conn, rel, c);
    case CheckKind::CustomSql: return check_custom(conn, c, params);
  }
  return Status::Error("unknown check kind");
}

}  // namespace

Status run_checks(PgConn& conn, const std::string& relation, const std::vector<CheckSpec>& checks,
                  const std::vector<Value>& params) {
  CheckReport report;
  for (const CheckSpec& c : checks) {
    // A check that fails in the server aborts the transaction; a savepoint keeps it usable so
    // the other checks still run and report.
    if (Result<PgResult> s = conn.exec("SAVEPOINT dbuild_check"); !s.ok()) return s.status();
    Result<std::string> r = run_check(conn, relation, c, params);
    Result<PgResult> back = conn.exec(r.ok() ? "RELEASE SAVEPOINT dbuild_check"
                                             : "ROLLBACK TO SAVEPOINT dbuild_check");
    if (!back.ok()) return back.status();
    report.add(c, r);
  }
  return report.status();
}

}  // namespace dbuild::exec::pg
