#pragma once
/// Data checks run on a partition's new rows inside the transaction that wrote them, so a failing
/// check rolls the write back and the previous data stays.
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/check_spec.h"
#include "values/value.h"

namespace dbuild::exec {

/// Runs every check against `relation` (SQL naming the partition's rows, e.g. temp."t") and
/// returns an error listing each failed check with up to 5 offending values, or Ok.
/// REQUIRES: a transaction is open on db (reads see the uncommitted rows).
Status run_checks(sqlite3* db, const std::string& relation, const std::vector<CheckSpec>& checks,
                  const std::vector<Value>& params);

}  // namespace dbuild::exec
