#include "model/path_template.h"

#include <algorithm>
#include <set>
#include <string>

#include <fmt/format.h>

namespace dbuild {

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
