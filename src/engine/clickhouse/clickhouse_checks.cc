#include "engine/clickhouse/clickhouse_checks.h"

#include <fmt/format.h>

namespace dbuild::exec {

namespace {

constexpr int kExamples = 5;

std::string column_list(const std::vector<std::string>& columns) {
  std::vector<std::string> q;
  for (const std::string& c : columns) q.push_back(ch_ident(c));
  return fmt::format("{}", fmt::join(q, ", "));
}

/// Renders row r's first n fields: one value, or a tuple "(1, 'x')".
std::string render_row(const TsvTable& t, size_t r, size_t n) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < n; ++i) parts.push_back(format_value(ch_value(t.types[i], t.rows[r][i], t.nulls[r][i])));
  if (n == 1) return parts[0];
  return fmt::format("({})", fmt::join(parts, ", "));
}

int64_t int_at(const TsvTable& t, size_t r, size_t c) {
  Value v = ch_value(t.types[c], t.rows.at(r).at(c), t.nulls.at(r).at(c));
  return std::holds_alternative<int64_t>(v) ? std::get<int64_t>(v) : 0;
}

/// `groups` returns offending values with their row count `n` last; "" when there are none.
Result<std::string> offending(ClickhouseSession& s, const std::string& groups, const char* what) {
  Result<TsvTable> totals = s.select(fmt::format("SELECT sum(n), count() FROM ({})", groups));
  if (!totals.ok()) return totals.status();
  int64_t total = int_at(*totals, 0, 0), values = int_at(*totals, 0, 1);
  if (total == 0) return std::string();
  Result<TsvTable> ex = s.select(fmt::format("{} LIMIT {}", groups, kExamples));
  if (!ex.ok()) return ex.status();
  std::vector<std::string> examples;
  size_t n = ex->names.size() - 1;
  for (size_t r = 0; r < ex->rows.size(); ++r) {
    examples.push_back(fmt::format("{} ({} rows)", render_row(*ex, r, n), int_at(*ex, r, n)));
  }
  return fmt::format("{} rows {} ({} values), e.g. {}", total, what, values, fmt::join(examples, ", "));
}

Result<std::string> check_not_null(ClickhouseSession& s, const std::string& rel, const CheckSpec& c) {
  std::vector<std::string> failures;
  for (const std::string& col : c.columns) {
    Result<TsvTable> t = s.select(fmt::format("SELECT countIf(isNull({})) FROM {}", ch_ident(col), rel));
    if (!t.ok()) return t.status();
    int64_t n = int_at(*t, 0, 0);
    if (n > 0) failures.push_back(fmt::format("{} rows have NULL in `{}`", n, col));
  }
  return fmt::format("{}", fmt::join(failures, "; "));
}

Result<std::string> check_unique(ClickhouseSession& s, const std::string& rel, const CheckSpec& c) {
  std::string cols = column_list(c.columns);
  std::vector<std::string> not_null;
  for (const std::string& col : c.columns) not_null.push_back(fmt::format("isNotNull({})", ch_ident(col)));
  return offending(s,
                   fmt::format("SELECT {0}, count() AS n FROM {1} WHERE {2} GROUP BY {0} "
                               "HAVING n > 1 ORDER BY n DESC, {0}",
                               cols, rel, fmt::join(not_null, " AND ")),
                   "share a value with another row");
}

Result<std::string> check_accepted(ClickhouseSession& s, const std::string& rel, const CheckSpec& c) {
  if (c.columns.size() != 1) return Status::Error("accepted_values checks exactly one column");
  std::vector<std::string> lits;
  for (const Value& v : c.values) lits.push_back(ch_literal(v));
  std::string col = ch_ident(c.columns[0]);
  std::string not_in = lits.empty() ? "" : fmt::format(" AND {} NOT IN ({})", col, fmt::join(lits, ", "));
  return offending(s,
                   fmt::format("SELECT {0}, count() AS n FROM {1} WHERE isNotNull({0}){2} "
                               "GROUP BY {0} ORDER BY n DESC, {0}",
                               col, rel, not_in),
                   "have other values");
}

Result<std::string> check_row_count(ClickhouseSession& s, const std::string& rel, const CheckSpec& c) {
  Result<TsvTable> t = s.select(fmt::format("SELECT count() FROM {}", rel));
  if (!t.ok()) return t.status();
  int64_t n = int_at(*t, 0, 0);
  if (compare(n, c.op, c.n)) return std::string();
  return fmt::format("the partition has {} rows", n);
}

Result<std::string> check_custom(ClickhouseSession& s, const std::string& database, const CheckSpec& c) {
  Result<TsvTable> count = s.select(fmt::format("SELECT count() FROM (\n{}\n)", c.sql), database);
  if (!count.ok()) return count.status();
  int64_t rows = int_at(*count, 0, 0);
  if (rows == 0) return std::string();
  Result<TsvTable> ex = s.select(fmt::format("SELECT * FROM (\n{}\n) LIMIT {}", c.sql, kExamples), database);
  if (!ex.ok()) return ex.status();
  std::vector<std::string> examples;
  for (size_t r = 0; r < ex->rows.size(); ++r) examples.push_back(render_row(*ex, r, ex->names.size()));
  return fmt::format("{} violating rows, e.g. {}", rows, fmt::join(examples, ", "));
}

Result<std::string> run_check(ClickhouseSession& s, const std::string& rel, const std::string& database,
                              const CheckSpec& c) {
  switch (c.kind) {
    case CheckKind::NotNull: return check_not_null(s, rel, c);
    case CheckKind::Unique: return check_unique(s, rel, c);
    case CheckKind::AcceptedValues: return check_accepted(s, rel, c);
    case CheckKind::RowCount: return check_row_count(s, rel, c);
    case CheckKind::CustomSql: return check_custom(s, database, c);
  }
  return Status::Error("unknown check kind");
}

}  // namespace

Status ch_run_checks(ClickhouseSession& s, const std::string& relation, const std::string& database,
                  const std::vector<CheckSpec>& checks) {
  CheckReport report;
  for (const CheckSpec& c : checks) {
    Result<std::string> r = run_check(s, relation, database, c);
    report.add(c, r);
  }
  return report.status();
}

}  // namespace dbuild::exec
