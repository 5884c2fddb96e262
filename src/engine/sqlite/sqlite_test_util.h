#pragma once
/// Test helpers for the SQLite engine tests: the shared temporary directory, and reading rows back.
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "engine/sqlite/sqlite_engine.h"
#include "engine/sqlite/sqlite_stmt.h"
#include "test_util.h"

namespace dbuild::exec::testing {

using dbuild::testing::TempDir;

/// All rows of a query, each as its column values.
using Rows = std::vector<std::vector<Value>>;

/// Runs the tests' own SQL on the engine's connection and returns every row.
inline Rows query(SqliteEngine& e, const std::string& sql) {
  Result<Stmt> st = Stmt::prepare(e.handle(), sql);
  REQUIRE_MESSAGE(st.ok(), st.status().message());
  Rows rows;
  for (;;) {
    Result<bool> row = st->step();
    REQUIRE_MESSAGE(row.ok(), row.status().message());
    if (!*row) return rows;
    std::vector<Value>& r = rows.emplace_back();
    for (int i = 0; i < st->column_count(); ++i) r.push_back(st->column(i));
  }
}

}  // namespace dbuild::exec::testing
