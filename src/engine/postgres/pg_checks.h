#pragma once
/// Internal to the PostgreSQL engine: runs a partition's checks (engine/check_spec.h) inside
/// its write transaction, as the SQLite engine does, with the same messages: one line per
/// failed check, each with up to 5 offending values.
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/check_spec.h"
#include "engine/postgres/pg_conn.h"

namespace dbuild::exec::pg {

/// Runs `checks` on the rows of `relation` (SQL text naming the new partition's rows). Custom
/// SQL checks take `params` ($N, or the engine-neutral ?NNN) and read the output table's name,
/// which the caller made resolve to the new partition only. Ok when every check passes.
Status run_checks(PgConn& conn, const std::string& relation, const std::vector<CheckSpec>& checks,
                  const std::vector<Value>& params);

}  // namespace dbuild::exec::pg
