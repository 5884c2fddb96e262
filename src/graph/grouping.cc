#include "graph/grouping.h"

#include <set>

#include <fmt/format.h>

namespace dbuild {

std::string group_id(size_t n) { return fmt::format("g{:06}", n); }

namespace {

bool full(const Dataset& ds, const Group& g) {
  uint64_t n = g.members.size();
  return (ds.group_max_count && n >= ds.group_max_count) || (ds.group_max_bytes && g.bytes >= ds.group_max_bytes) ||
         (ds.group_complete_at && n >= ds.group_complete_at);
}

void start_group(std::vector<Group>& groups, int64_t now_unix_ms) {
  Group g;
  g.id = group_id(groups.size() + 1);
  g.opened_unix_ms = now_unix_ms;
  groups.push_back(std::move(g));
}

}  // namespace

std::vector<Group> assign_groups(const Dataset& ds, std::vector<Group> groups, const std::vector<GroupInput>& inputs,
                                 int64_t now_unix_ms) {
  std::map<std::string_view, uint32_t> index;
  for (size_t i = 0; i < inputs.size(); ++i) index.emplace(inputs[i].text, static_cast<uint32_t>(i));
  std::set<std::string, std::less<>> assigned;
  for (auto& g : groups) {
    g.bytes = 0;
    g.present.clear();
    for (const auto& m : g.members) {
      assigned.insert(m);
      auto it = index.find(m);
      if (it == index.end()) continue;  // gone: the group reads what is left of it
      g.present.push_back(it->second);
      g.bytes += inputs[it->second].bytes;
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (assigned.count(inputs[i].text)) continue;
    if (groups.empty() || groups.back().closed) start_group(groups, now_unix_ms);
    // A member that would overflow a non-empty group starts the next one instead.
    if (ds.group_max_bytes && !groups.back().members.empty() &&
        groups.back().bytes + inputs[i].bytes > ds.group_max_bytes) {
      groups.back().closed = true;
      start_group(groups, now_unix_ms);
    }
    Group& g = groups.back();
    g.members.push_back(inputs[i].text);
    g.present.push_back(static_cast<uint32_t>(i));
    g.bytes += inputs[i].bytes;
    if (full(ds, g)) g.closed = true;
  }
  return groups;
}

std::string group_fill(const Dataset& ds, const Group& g, bool files) {
  size_t n = g.members.size();
  const char* unit = files ? (n == 1 && !ds.group_max_count ? "file" : "files")
                           : (n == 1 && !ds.group_max_count ? "partition" : "partitions");
  std::string out = ds.group_max_count ? fmt::format("{} of {} {}", n, ds.group_max_count, unit)
                                       : fmt::format("{} {}", n, unit);
  if (ds.group_complete_at) out += fmt::format(" (complete at {})", ds.group_complete_at);
  if (ds.group_max_bytes) {
    // The largest unit of max_size's (binary: parse_size) that the limit reaches.
    static const std::pair<const char*, int> kUnits[] = {{"TB", 40}, {"GB", 30}, {"MB", 20}, {"KB", 10}};
    const char* name = "B";
    double scale = 1;
    for (const auto& [u, shift] : kUnits)
      if (ds.group_max_bytes >= (uint64_t{1} << shift)) {
        name = u;
        scale = static_cast<double>(uint64_t{1} << shift);
        break;
      }
    out += fmt::format(", {:.1f} of {:.1f} {}", static_cast<double>(g.bytes) / scale,
                       static_cast<double>(ds.group_max_bytes) / scale, name);
  }
  return out;
}

}  // namespace dbuild
