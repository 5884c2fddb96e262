#pragma once
/// Turns an action of the graph into what the engine runs: the LoadSpec of a file source's
/// partition, or the QuerySpec of a SQL table's partition (its SQL with every `{{ }}`
/// template replaced by a bound parameter, the input views its mapping selects, its checks).
#include <string>
#include <vector>

#include "engine/sqlite/sqlite_engine.h"
#include "graph/action_graph.h"

namespace dbuild::exec {

/// The key columns and their values for partition `tuple` of `ds`.
std::vector<KeyColumn> key_columns(const Dataset& ds, std::span<const int64_t> tuple, const StringPool& pool);

/// How a format reads files.
LoadSpec load_spec(const FormatDef& format);

/// The value of a template expression for one partition. Fails on a value it cannot compute
/// (a shift of a string key, an unknown function).
Result<Value> template_value(const ast::Expr& e, const Model& model, const Dataset& ds,
                             std::span<const int64_t> tuple, const StringPool& pool);

/// The query that computes action `a` (a SQL table's partition).
Result<QuerySpec> query_spec(const ActionGraph& g, ActionId a);

/// The SQL with templates replaced by ?NNN parameters, for preparing without values; the
/// parameter count goes to *params.
std::string sql_with_parameters(const Dataset& ds, size_t* params);

/// The engine's form of the model's checks.
std::vector<CheckSpec> check_specs(const Dataset& ds);

}  // namespace dbuild::exec
