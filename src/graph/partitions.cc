#include "graph/partitions.h"

#include <algorithm>

namespace dbuild {

int64_t StringPool::intern(std::string_view s) {
  auto it = ids_.find(s);
  if (it != ids_.end()) return it->second;
  strings_.emplace_back(s);
  int64_t id = static_cast<int64_t>(strings_.size() - 1);
  ids_.emplace(strings_.back(), id);
  return id;
}

std::optional<int64_t> StringPool::find(std::string_view s) const {
  auto it = ids_.find(s);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

void PartitionList::add(std::span<const int64_t> tuple) {
  if (arity_ == 0) {
    unpartitioned_count_ = 1;
    return;
  }
  values_.insert(values_.end(), tuple.begin(), tuple.end());
}

void PartitionList::sort_unique() {
  if (arity_ == 0) return;
  size_t n = values_.size() / arity_;
  std::vector<uint32_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
  auto tuple = [&](uint32_t i) { return at(i); };
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    auto x = tuple(a), y = tuple(b);
    return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end());
  });
  std::vector<int64_t> sorted;
  sorted.reserve(values_.size());
  for (size_t k = 0; k < n; ++k) {
    auto t = tuple(order[k]);
    if (k > 0 && std::equal(t.begin(), t.end(), sorted.end() - arity_)) continue;
    sorted.insert(sorted.end(), t.begin(), t.end());
  }
  values_ = std::move(sorted);
}

std::optional<size_t> PartitionList::find(std::span<const int64_t> tuple) const {
  if (arity_ == 0) return unpartitioned_count_ ? std::optional<size_t>(0) : std::nullopt;
  size_t lo = 0, hi = size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    auto t = at(mid);
    if (std::lexicographical_compare(t.begin(), t.end(), tuple.begin(), tuple.end())) lo = mid + 1;
    else hi = mid;
  }
  if (lo < size() && std::equal(tuple.begin(), tuple.end(), at(lo).begin())) return lo;
  return std::nullopt;
}

std::pair<size_t, size_t> PartitionList::first_key_range(int64_t lo_value, int64_t hi_value) const {
  auto first = [&](size_t i) { return values_[i * arity_]; };
  size_t n = size();
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (first(mid) < lo_value) lo = mid + 1;
    else hi = mid;
  }
  size_t begin = lo;
  hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (first(mid) <= hi_value) lo = mid + 1;
    else hi = mid;
  }
  return {begin, lo};
}

std::string partition_text(const std::vector<PartitionKeyDef>& keys, std::span<const int64_t> tuple,
                           const StringPool& pool) {
  std::string out;
  for (size_t i = 0; i < keys.size() && i < tuple.size(); ++i) {
    if (i) out += ',';
    out += keys[i].type == KeyType::String ? pool.text(tuple[i]) : format_key_value(keys[i].type, tuple[i]);
  }
  return out;
}

std::optional<std::vector<int64_t>> parse_partition_text(const std::vector<PartitionKeyDef>& keys,
                                                         std::string_view text, StringPool& pool) {
  std::vector<int64_t> out;
  if (keys.empty()) {
    if (!text.empty()) return std::nullopt;
    return out;
  }
  size_t pos = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    size_t comma = i + 1 < keys.size() ? text.find(',', pos) : std::string_view::npos;
    if (i + 1 < keys.size() && comma == std::string_view::npos) return std::nullopt;
    std::string_view part = text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos);
    if (keys[i].type == KeyType::String) {
      out.push_back(pool.intern(part));
    } else {
      auto v = parse_key_value(keys[i].type, part);
      if (!v) return std::nullopt;
      out.push_back(*v);
    }
    pos = comma + 1;
  }
  return out;
}

bool find_partition_text(const std::vector<PartitionKeyDef>& keys, std::string_view text,
                         const StringPool& pool, std::span<int64_t> out) {
  if (keys.empty()) return text.empty();
  size_t pos = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    size_t comma = i + 1 < keys.size() ? text.find(',', pos) : std::string_view::npos;
    if (i + 1 < keys.size() && comma == std::string_view::npos) return false;
    std::string_view part = text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos);
    std::optional<int64_t> v = keys[i].type == KeyType::String ? pool.find(part) : parse_key_value(keys[i].type, part);
    if (!v) return false;
    out[i] = *v;
    pos = comma + 1;
  }
  return true;
}

std::optional<std::pair<int64_t, int64_t>> days_covered(KeyType type, int64_t v) {
  switch (type) {
    case KeyType::Date: return std::pair{v, v};
    case KeyType::Month: return std::pair{first_day_of_month(v), first_day_of_month(v + 1) - 1};
    case KeyType::Hour: {
      int64_t day = v >= 0 ? v / 24 : (v - 23) / 24;
      return std::pair{day, day};
    }
    default: return std::nullopt;
  }
}

}  // namespace dbuild
