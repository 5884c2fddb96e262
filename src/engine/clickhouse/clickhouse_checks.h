#pragma once
/// Data checks (engine/check_spec.h) on a staged partition of the ClickHouse engine.
/// Internal to engine/clickhouse.
#include <string>
#include <vector>

#include "engine/check_spec.h"
#include "engine/clickhouse/clickhouse_session.h"

namespace dbuild::exec {

/// Runs `checks` on the rows of `relation` (a qualified table or view). Custom SQL runs with
/// `database` as its default database, where the output table's name resolves to `relation`.
/// Fails listing every failed check, each with up to 5 offending values.
Status ch_run_checks(ClickhouseSession& s, const std::string& relation, const std::string& database,
                  const std::vector<CheckSpec>& checks);

}  // namespace dbuild::exec
