#include "model/path_template.h"

#include <algorithm>
#include <set>
#include <string>

#include <fmt/format.h>

namespace dbuild {

bool escapes_workspace(std::string_view path) {
  if (path.empty() || path.front() == '/') return true;
  int depth = 0;  // directories below the root, walking the path's parts
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "..") {
      if (--depth < 0) return true;
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    start = end + 1;
  }
  return false;
}

void check_path_placeholders(std::string_view p, Span at, const std::vector<PartitionKeyDef>& keys,
                             std::string_view what, Diagnostics& diags) {
  std::set<std::string, std::less<>> placeholders;
  for (size_t i = p.find('{'); i != std::string_view::npos; i = p.find('{', i + 1)) {
    size_t close = p.find('}', i);
    if (close == std::string_view::npos) {
      diags.error(at, fmt::format("unclosed `{{` in the {} template", what));
      return;
    }
    std::string_view key = p.substr(i + 1, close - i - 1);
    bool known = std::any_of(keys.begin(), keys.end(), [&](auto& k) { return k.name == key; });
    if (!known)
      diags.error(at, fmt::format("placeholder `{{{}}}` is not a partition key", key),
                  keys.empty() ? fmt::format("declare it: partition {}: date", key)
                               : "placeholders name the partition keys");
    placeholders.insert(std::string(key));
  }
  if (what == "output" && escapes_workspace(p))
    diags.error(at, "the output path leaves the workspace",
                "write it relative to the workspace root, without `..`: dbuild writes and deletes "
                "files only inside the workspace");
  for (const auto& k : keys) {
    if (placeholders.count(k.name)) continue;
    if (what == "output")
      diags.error(at, fmt::format("the output has no `{{{}}}` placeholder for key `{}`", k.name, k.name),
                  "each partition writes its own file, so the output path names every key; "
                  "otherwise partitions built at once overwrite one file");
    else
      diags.error(at, fmt::format("the path has no `{{{}}}` placeholder for key `{}`", k.name, k.name),
                  "each file holds one partition, so its path names every key");
  }
}

}  // namespace dbuild
