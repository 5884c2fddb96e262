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

namespace {

/// Bytes a string key value never shows plainly: the escape itself, the separators of the
/// partition text (`,`) and of selectors (`@`, a trailing `+`), glob characters, and control
/// characters. A `.` is escaped only next to another `.` (`..` is a range).
bool always_escaped(unsigned char c) {
  return c == '%' || c == ',' || c == '@' || c == '*' || c == '?' || c == '+' || c < 0x20 || c == 0x7F;
}

/// The length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one.
size_t utf8_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
  unsigned c = byte(i);
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) { return byte(k) >= lo && byte(k) <= hi; };
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

/// Calls plain(i, n) for each run of n bytes shown as they are, escape(i) for each escaped byte.
template <typename Plain, typename Escape>
void scan_string_value(std::string_view s, Plain plain, Escape escape) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8_length(s, i);
      if (n == 0) escape(i++);
      else plain(i, n), i += n;
    } else if (always_escaped(c) || (c == '.' && ((i > 0 && s[i - 1] == '.') || (i + 1 < s.size() && s[i + 1] == '.')))) {
      escape(i++);
    } else {
      plain(i++, 1);
    }
  }
}

/// Whether the text form of string value `s` is `s` itself.
bool is_plain(std::string_view s) {
  bool plain = true;
  scan_string_value(s, [](size_t, size_t) {}, [&](size_t) { plain = false; });
  return plain;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower case is not the text form: each value has exactly one
}

/// Decodes %XX escapes into `out`; false on a malformed escape.
bool unescape(std::string_view text, std::string& out) {
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return false;
    int hi = hex_digit(text[i + 1]), lo = hex_digit(text[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

/// An int's text form has no sign but `-`, no leading zeros and no `-0`.
bool canonical_int(std::string_view t) {
  std::string_view digits = t.starts_with('-') ? t.substr(1) : t;
  if (digits.empty() || (digits.size() > 1 && digits[0] == '0')) return false;
  return !(t.starts_with('-') && digits == "0");
}

/// Parses one key value's text form. `decoded` is scratch space; string values are looked up
/// with `lookup` (intern or find).
template <typename Lookup>
std::optional<int64_t> parse_value(KeyType type, std::string_view text, std::string& decoded, Lookup lookup) {
  if (type == KeyType::String) {
    if (text.find('%') == std::string_view::npos) {
      if (!is_plain(text)) return std::nullopt;
      return lookup(text);
    }
    if (!unescape(text, decoded)) return std::nullopt;
    std::string again;
    append_key_text(again, decoded);
    if (again != text) return std::nullopt;  // an escape that the text form would not write
    return lookup(std::string_view(decoded));
  }
  if (type == KeyType::Int && !canonical_int(text)) return std::nullopt;
  if (type == KeyType::Hour && text.size() > 10 && text[10] != 'T') return std::nullopt;
  return parse_key_value(type, text);
}

/// Splits `text` at every `,` into exactly `out.size()` parts; false if the count differs.
bool split_values(std::string_view text, std::span<std::string_view> out) {
  size_t pos = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    size_t comma = text.find(',', pos);
    bool last = i + 1 == out.size();
    if (last != (comma == std::string_view::npos)) return false;
    out[i] = text.substr(pos, last ? std::string_view::npos : comma - pos);
    pos = comma + 1;
  }
  return true;
}

template <typename Lookup>
bool parse_tuple(const std::vector<PartitionKeyDef>& keys, std::string_view text, std::span<int64_t> out,
                 Lookup lookup) {
  if (keys.empty()) return text.empty();
  constexpr size_t kInline = 8;
  std::string_view inline_parts[kInline];
  std::vector<std::string_view> many;
  std::span<std::string_view> parts(inline_parts, keys.size() <= kInline ? keys.size() : 0);
  if (keys.size() > kInline) {
    many.resize(keys.size());
    parts = many;
  }
  if (!split_values(text, parts)) return false;
  std::string decoded;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto v = parse_value(keys[i].type, parts[i], decoded, lookup);
    if (!v) return false;
    out[i] = *v;
  }
  return true;
}

}  // namespace

void append_key_text(std::string& out, std::string_view value) {
  static const char kHex[] = "0123456789ABCDEF";
  scan_string_value(
      value, [&](size_t i, size_t n) { out.append(value.substr(i, n)); },
      [&](size_t i) {
        unsigned char c = static_cast<unsigned char>(value[i]);
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      });
}

std::string partition_text(const std::vector<PartitionKeyDef>& keys, std::span<const int64_t> tuple,
                           const StringPool& pool) {
  std::string out;
  for (size_t i = 0; i < keys.size() && i < tuple.size(); ++i) {
    if (i) out += ',';
    if (keys[i].type == KeyType::String) append_key_text(out, pool.text(tuple[i]));
    else out += format_key_value(keys[i].type, tuple[i]);
  }
  return out;
}

std::optional<std::vector<int64_t>> parse_partition_text(const std::vector<PartitionKeyDef>& keys,
                                                         std::string_view text, StringPool& pool) {
  std::vector<int64_t> out(keys.size());
  auto intern = [&](std::string_view s) { return std::optional<int64_t>(pool.intern(s)); };
  if (!parse_tuple(keys, text, out, intern)) return std::nullopt;
  return out;
}

bool find_partition_text(const std::vector<PartitionKeyDef>& keys, std::string_view text,
                         const StringPool& pool, std::span<int64_t> out) {
  return parse_tuple(keys, text, out, [&](std::string_view s) { return pool.find(s); });
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
