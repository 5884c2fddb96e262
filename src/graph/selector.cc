#include "graph/selector.h"

#include <fmt/format.h>

#include "model/model_builder.h"

namespace dbuild {

bool glob_match(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

void add_upstream(const ActionGraph& g, std::vector<uint8_t>& flags) {
  for (ActionId a = static_cast<ActionId>(g.size()); a-- > 0;)
    if (flags[a])
      for (ActionId in : g.inputs_of(a)) flags[in] = 1;
}

void add_downstream(const ActionGraph& g, std::vector<uint8_t>& flags) {
  for (ActionId a = 0; a < g.size(); ++a)
    if (!flags[a])
      for (ActionId in : g.inputs_of(a))
        if (flags[in]) {
          flags[a] = 1;
          break;
        }
}

namespace {

/// Parses a bound of the first key: its own text form, or a date for date-like keys.
std::optional<int64_t> parse_bound(const PartitionKeyDef& key, const std::string& text, bool upper) {
  if (auto v = parse_key_value(key.type, text)) return v;
  auto day = parse_key_value(KeyType::Date, text);
  if (!day) return std::nullopt;
  if (key.type == KeyType::Month) return month_of_day(*day);
  if (key.type == KeyType::Hour) return *day * 24 + (upper ? 23 : 0);
  return std::nullopt;
}

Status select_partitions(const ActionGraph& g, const Dataset& ds, const std::string& spec,
                         std::vector<uint8_t>& flags) {
  ActionId base = g.first_action[ds.id];
  const PartitionList& parts = g.partitions[ds.id];
  if (ds.keys.empty())
    return Status::Error(fmt::format("`{}` is unpartitioned: select it as `{}`", ds.name, ds.name));
  size_t dots = spec.find("..");
  if (dots != std::string::npos) {
    auto lo = parse_bound(ds.keys[0], spec.substr(0, dots), false);
    auto hi = parse_bound(ds.keys[0], spec.substr(dots + 2), true);
    if (!lo || !hi || ds.keys[0].type == KeyType::String)
      return Status::Error(fmt::format("`{}@{}`: a range is two {} values, as in {}@{}..{}", ds.name, spec,
                                       key_type_name(ds.keys[0].type), ds.name,
                                       key_type_example(ds.keys[0].type), key_type_example(ds.keys[0].type)));
    auto [b, e] = parts.first_key_range(*lo, *hi);
    for (size_t i = b; i < e; ++i) flags[base + i] = 1;
    return Status::Ok();
  }
  StringPool scratch = g.pool;
  auto tuple = parse_partition_text(ds.keys, spec, scratch);
  if (!tuple) {
    std::string form;
    bool strings = false;
    for (const auto& k : ds.keys) {
      form += (form.empty() ? "" : ",") + std::string(key_type_example(k.type));
      strings |= k.type == KeyType::String;
    }
    return Status::Error(fmt::format("`{}@{}` is not a partition of `{}`: write it like {}@{}{}", ds.name,
                                     spec, ds.name, ds.name, form,
                                     strings ? " (in a string value, write % , @ * ? + as %25 %2C %40 %2A %3F %2B)"
                                             : ""));
  }
  auto a = g.find(ds.id, *tuple);
  if (!a) {
    std::string have = parts.size() == 0 ? "it has no partitions yet"
                                         : fmt::format("it has {} partitions, {} .. {}", parts.size(),
                                                       partition_text(ds.keys, parts.at(0), g.pool),
                                                       partition_text(ds.keys, parts.at(parts.size() - 1), g.pool));
    return Status::Error(fmt::format("`{}` has no partition {} ({})", ds.name, spec, have));
  }
  flags[*a] = 1;
  return Status::Ok();
}

Status select_one(const ActionGraph& g, std::string sel, std::vector<uint8_t>& flags) {
  bool up = !sel.empty() && sel.front() == '+';
  bool down = !sel.empty() && sel.back() == '+';
  if (up) sel.erase(0, 1);
  if (down) sel.pop_back();
  std::string name = sel, part;
  size_t at = sel.find('@');
  if (at != std::string::npos) {
    name = sel.substr(0, at);
    part = sel.substr(at + 1);
  }
  std::vector<uint8_t> mine(g.size(), 0);
  bool any = false;
  for (const auto& ds : g.model->datasets) {
    if (!glob_match(name, ds.name)) continue;
    any = true;
    if (at == std::string::npos) {
      for (ActionId a = g.first_action[ds.id]; a < g.first_action[ds.id + 1]; ++a) mine[a] = 1;
    } else {
      Status s = select_partitions(g, ds, part, mine);
      if (!s.ok()) return s;
    }
  }
  if (!any) {
    std::vector<std::string> names;
    for (const auto& ds : g.model->datasets) names.push_back(ds.name);
    std::string guess = did_you_mean(name, names);
    return Status::Error(fmt::format("no dataset matches `{}`{}", name,
                                     guess.empty() ? "" : fmt::format(" (did you mean `{}`?)", guess)));
  }
  if (up) add_upstream(g, mine);
  if (down) add_downstream(g, mine);
  for (size_t i = 0; i < mine.size(); ++i) flags[i] |= mine[i];
  return Status::Ok();
}

bool in_range(const ActionGraph& g, ActionId a, std::optional<int64_t> from, std::optional<int64_t> to) {
  const Dataset& ds = g.model->datasets[g.dataset_of(a)];
  for (size_t k = 0; k < ds.keys.size(); ++k) {
    auto days = days_covered(ds.keys[k].type, g.tuple_of(a)[k]);
    if (!days) continue;
    if (from && days->second < *from) return false;
    if (to && days->first > *to) return false;
    return true;
  }
  return true;  // no date-like key: not limited
}

}  // namespace

Result<std::vector<uint8_t>> select_actions(const ActionGraph& g, const SelectOptions& o) {
  std::vector<uint8_t> flags(g.size(), 0);
  if (o.selectors.empty()) std::fill(flags.begin(), flags.end(), 1);
  for (const auto& s : o.selectors) {
    Status st = select_one(g, s, flags);
    if (!st.ok()) return st;
  }
  std::optional<int64_t> from, to;
  if (!o.from.empty()) {
    from = parse_key_value(KeyType::Date, o.from);
    if (!from) return Status::Error(fmt::format("--from {}: expected a date such as 2024-03-05", o.from));
  }
  if (!o.to.empty()) {
    to = parse_key_value(KeyType::Date, o.to);
    if (!to) return Status::Error(fmt::format("--to {}: expected a date such as 2024-03-05", o.to));
  }
  if (from || to)
    for (ActionId a = 0; a < g.size(); ++a)
      if (flags[a] && !in_range(g, a, from, to)) flags[a] = 0;
  return flags;
}

}  // namespace dbuild
