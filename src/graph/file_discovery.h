#pragma once
/// Discovers the partitions of a file source from the files that exist: a path template such
/// as `data/raw/{month}.log` matches `data/raw/1995-07.log` as partition 1995-07. Each path
/// segment with placeholders becomes an anchored regular expression whose groups accept only
/// the key's text form.
#include <string>
#include <vector>

#include "base/status.h"
#include "graph/partitions.h"
#include "model/model.h"

namespace dbuild {

/// One matched file and its key values.
struct DiscoveredFile {
  std::vector<int64_t> tuple;
  std::string path;  // relative to the workspace root
};

/// Lists files under `root` matching `ds.path_template`, sorted by partition.
/// Values that look right but are invalid (2024-02-30) are skipped with a message in `skipped`.
/// A matching path that is not a regular file (a directory, FIFO, device, dangling symlink) is
/// an error naming it: its partition must not silently vanish.
Result<std::vector<DiscoveredFile>> discover_files(const std::string& root, const Dataset& ds,
                                                   StringPool& pool, std::vector<std::string>* skipped);

/// The path of one partition's file (for output templates and messages).
std::string expand_path_template(const std::string& tmpl, const std::vector<PartitionKeyDef>& keys,
                                 std::span<const int64_t> tuple, const StringPool& pool);

}  // namespace dbuild
