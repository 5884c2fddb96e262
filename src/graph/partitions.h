#pragma once
/// The partitions of each dataset, as tuples of int64 key values (see model/key_type.h), and
/// the pool that gives string key values their int64 ids.
///
/// Tuples of one dataset are stored flat (arity values each) and sorted, so a range of the
/// first key is found by binary search. An unpartitioned dataset has arity 0 and one
/// partition when it exists.
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/model.h"

namespace dbuild {

/// Interns string key values. Not thread-safe for intern(); text() is safe once built.
class StringPool {
 public:
  int64_t intern(std::string_view s);
  std::optional<int64_t> find(std::string_view s) const;
  const std::string& text(int64_t id) const { return strings_[static_cast<size_t>(id)]; }

 private:
  std::deque<std::string> strings_;  // deque: views into it stay valid
  std::unordered_map<std::string_view, int64_t> ids_;
};

/// The sorted, distinct partitions of one dataset.
class PartitionList {
 public:
  PartitionList() = default;
  explicit PartitionList(uint32_t arity) : arity_(arity) {}

  uint32_t arity() const { return arity_; }
  size_t size() const { return arity_ == 0 ? unpartitioned_count_ : values_.size() / arity_; }
  std::span<const int64_t> at(size_t i) const {
    return std::span<const int64_t>(values_.data() + i * arity_, arity_);
  }

  /// Adds a tuple; call sort_unique() before lookups.
  void add(std::span<const int64_t> tuple);
  void sort_unique();
  /// Index of an exact tuple.
  std::optional<size_t> find(std::span<const int64_t> tuple) const;
  /// Indices [begin, end) of tuples whose first key lies in [lo, hi]. REQUIRES: arity > 0.
  std::pair<size_t, size_t> first_key_range(int64_t lo, int64_t hi) const;

 private:
  uint32_t arity_ = 0;
  size_t unpartitioned_count_ = 0;  // arity 0: 0 or 1
  std::vector<int64_t> values_;
};

/// THE TEXT FORM of a partition: what users type after `@`, what plan/why/status and --json
/// print, and the partition part of state store keys. One codec for all, injective: distinct
/// tuples give distinct texts, and parsing a text then printing the tuple gives the text back.
///
///   - values are joined by `,` (2024-03-05,US); an unpartitioned dataset's text is empty;
///   - date 2024-03-05, month 2024-03, hour 2024-03-05T13 (years 0000-9999), int 42 or -7
///     (no `+`, no leading zeros);
///   - a string value is itself, except that these bytes are written %XX (upper-case hex):
///     `%` `,` `@` `*` `?` `+`, control characters (0x00-0x1F, 0x7F), bytes that are not part
///     of valid UTF-8, and a `.` next to another `.` (`..` makes ranges). So `a,b` is `a%2Cb`
///     and `C++` is `C%2B%2B`, while `US`, `New York` and `v1.2` are typed as they are.
/// Parsing is strict: a text any other way (lower-case hex, a needless escape, 007, a space
/// instead of T) names no partition.
std::string partition_text(const std::vector<PartitionKeyDef>& keys, std::span<const int64_t> tuple,
                           const StringPool& pool);
/// Appends the text form of one string key value to `out`.
void append_key_text(std::string& out, std::string_view value);
/// Parses a partition's text form. Unknown string values are interned.
std::optional<std::vector<int64_t>> parse_partition_text(const std::vector<PartitionKeyDef>& keys,
                                                         std::string_view text, StringPool& pool);

/// Parses a partition's text form without interning into `out` (one value per key): a string
/// value the pool does not know names no existing partition, so the result is false.
/// Allocates nothing unless a string value has escapes.
bool find_partition_text(const std::vector<PartitionKeyDef>& keys, std::string_view text,
                         const StringPool& pool, std::span<int64_t> out);

/// The first and last day a key value covers (date: itself; month: its days; hour: its day).
/// Int and string keys cover no days.
std::optional<std::pair<int64_t, int64_t>> days_covered(KeyType type, int64_t value);

}  // namespace dbuild
