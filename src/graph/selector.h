#pragma once
/// Target selectors, as users type them (README.md, Commands):
///   table                 every partition of a dataset
///   table@2024-03-05      one partition (multi-key: table@2024-03-05,US)
///   table@2024-03-01..2024-03-31   a range of the first key
///   sales_*               a glob over dataset names (* and ?)
///   +table  table+        with everything upstream / downstream
/// --from/--to keep only partitions whose first date, month or hour key overlaps the range.
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "graph/action_graph.h"

namespace dbuild {

struct SelectOptions {
  std::vector<std::string> selectors;  // empty: every action
  std::string from, to;                // empty: unbounded (dates: 2024-03-05)
};

/// Flags per action: 1 for each action the selectors pick (upstream and downstream included
/// where asked with `+`). Unknown datasets or partitions are errors with a suggestion.
Result<std::vector<uint8_t>> select_actions(const ActionGraph& g, const SelectOptions& options);

/// Adds every action the flagged ones read, transitively.
void add_upstream(const ActionGraph& g, std::vector<uint8_t>& flags);
/// Adds every action that reads a flagged one, transitively.
void add_downstream(const ActionGraph& g, std::vector<uint8_t>& flags);

/// Whether `name` matches a glob with * and ?.
bool glob_match(std::string_view pattern, std::string_view name);

}  // namespace dbuild
