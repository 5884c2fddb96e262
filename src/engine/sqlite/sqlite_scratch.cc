// SqliteEngine: null counts, scratch tables and plain selects (for table sources, `check` and
// `test`).
#include <fmt/format.h>

#include "engine/sqlite/sqlite_engine.h"
#include "engine/sqlite/sqlite_stmt.h"

namespace dbuild::exec {

Result<int64_t> SqliteEngine::count_nulls(const std::string& table, const std::string& column) {
  auto st = Stmt::prepare(db_, fmt::format("SELECT count(*) FROM main.{} WHERE {} IS NULL", quote_ident(table),
                                           quote_ident(column)));
  if (!st.ok()) return st.status();
  auto row = st->step();
  if (!row.ok()) return row.status();
  Value v = st->column(0);
  const auto* n = std::get_if<int64_t>(&v);
  return n ? *n : 0;
}

Status SqliteEngine::create_scratch_table(const std::string& name, const RowSet& rows) {
  std::string cols, marks;
  for (const auto& c : rows.columns) {
    cols += (cols.empty() ? "" : ", ") + quote_ident(c);
    marks += marks.empty() ? "?" : ", ?";
  }
  auto create = Stmt::prepare(db_, fmt::format("CREATE TEMP TABLE {} ({})", quote_ident(name), cols));
  if (!create.ok()) return create.status();
  if (Status s = create->run(); !s.ok()) return s;
  if (rows.rows.empty()) return Status::Ok();
  auto insert = Stmt::prepare(db_, fmt::format("INSERT INTO temp.{} VALUES ({})", quote_ident(name), marks));
  if (!insert.ok()) return insert.status();
  for (const auto& row : rows.rows) {
    insert->reset();
    for (size_t i = 0; i < row.size(); ++i)
      if (Status s = insert->bind(static_cast<int>(i + 1), row[i]); !s.ok()) return s;
    auto step = insert->step();
    if (!step.ok()) return step.status();
  }
  return Status::Ok();
}

Result<RowSet> SqliteEngine::run_select(const std::string& sql, const std::vector<Value>& params) {
  auto st = Stmt::prepare(db_, sql);
  if (!st.ok()) return st.status();
  if (!sqlite3_stmt_readonly(st->get())) return Status::Error("only a read-only query can run here");
  for (size_t i = 0; i < params.size(); ++i)
    if (Status s = st->bind(static_cast<int>(i + 1), params[i]); !s.ok()) return s;
  RowSet out;
  int n = sqlite3_column_count(st->get());
  for (int c = 0; c < n; ++c) out.columns.emplace_back(sqlite3_column_name(st->get(), c));
  for (;;) {
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    auto& r = out.rows.emplace_back();
    for (int c = 0; c < n; ++c) r.push_back(st->column(c));
  }
  return out;
}

}  // namespace dbuild::exec
