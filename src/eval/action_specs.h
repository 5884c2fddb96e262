#pragma once
/// Turns an action of the graph into what the engine runs: the LoadSpec of a file source's
/// partition, or the QuerySpec of a SQL table's partition (its SQL with every `{{ }}`
/// template replaced by a bound parameter, the input views its mapping selects, its checks).
#include <string>
#include <vector>

#include "engine/engine.h"
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

/// The values of every template of `ds`'s SQL for one partition, in order.
Result<std::vector<Value>> template_values(const Model& m, const Dataset& ds, std::span<const int64_t> tuple,
                                           const StringPool& pool);

/// The query that computes action `a` (a SQL table's partition) on `engine`.
Result<QuerySpec> query_spec(const ActionGraph& g, ActionId a, const Engine& engine);

/// The SQL with the i-th template replaced by engine.placeholder(i, values[i]) (a NULL value
/// past the end of `values`: for preparing without values); the template count goes to *params.
std::string sql_with_parameters(const Dataset& ds, const Engine& engine, const std::vector<Value>& values,
                                size_t* params);

/// The engine's form of the model's checks.
std::vector<CheckSpec> check_specs(const Dataset& ds);

}  // namespace dbuild::exec
