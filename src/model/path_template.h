#pragma once
/// Checks the `{key}` placeholders of a path template: a file source's `path` or a command
/// table's `output`. Each file holds one partition, so the path must name every partition key
/// (else two partitions would read, or write, the same file) and nothing else. An output must
/// also stay inside the workspace.
#include <string_view>
#include <vector>

#include "base/diagnostic.h"
#include "model/model.h"

namespace dbuild {

/// True when `path` is absolute, empty, or climbs above its root with `..` (placeholders count
/// as one ordinary part each).
bool escapes_workspace(std::string_view path);

/// Reports at `at` (the path's string literal) every placeholder that is not a key, every key
/// without a placeholder, and an unclosed `{`. `what` names the path: "path" or "output".
void check_path_placeholders(std::string_view path, Span at, const std::vector<PartitionKeyDef>& keys,
                             std::string_view what, Diagnostics& diags);

}  // namespace dbuild
