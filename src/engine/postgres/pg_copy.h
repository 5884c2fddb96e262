#pragma once
/// Internal to the PostgreSQL engine: rows sent with COPY ... FROM STDIN in text format
/// (fields separated by tabs, rows by newlines, NULL as \N, backslash escapes).
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/postgres/pg_conn.h"
#include "loading/loader.h"

namespace dbuild::exec::pg {

/// Appends `v` as one COPY text field.
void append_copy_field(std::string& out, const Value& v);

/// Runs `copy_sql` (a COPY ... FROM STDIN) and sends each row of `loader`, preceded by the
/// `prefix` fields (the key values). A loader error or an interrupt aborts the COPY and is
/// returned as is.
Status copy_from_loader(PgConn& conn, const std::string& copy_sql, const std::vector<Value>& prefix,
                        Loader& loader);

/// Runs `copy_sql` and sends `rows`.
Status copy_rows(PgConn& conn, const std::string& copy_sql, const std::vector<std::vector<Value>>& rows);

}  // namespace dbuild::exec::pg
