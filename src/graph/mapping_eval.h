#pragma once
/// Evaluates mapping terms (model.h MapTerm) on key values: forward, from an output partition
/// to the input values it reads; and backward, from an input value to the output values that
/// read it (which is how a table's partitions are enumerated from its inputs').
#include <cstdint>
#include <optional>
#include <span>

#include "graph/partitions.h"
#include "model/mapping.h"
#include "model/model.h"

namespace dbuild {

/// An inclusive range of one key's values, or every value.
struct ValueRange {
  bool all = false;
  int64_t lo = 0;
  int64_t hi = -1;  // lo > hi: empty
};

/// The values of the input key that output partition `out` reads through `term`.
/// `literal` is the term's literal value, already parsed (Literal terms only).
ValueRange forward_term(const MapTerm& term, const std::vector<PartitionKeyDef>& out_keys,
                        std::span<const int64_t> out, int64_t literal);

/// The output values of key `term.out_key` whose partitions read input value `in`, for terms
/// that determine an output key (Key, Range, Month, Date, Days, Hours). A window determines
/// the output whose window ends at `in` (for `day - 6 .. day`, the same day).
ValueRange backward_term(const MapTerm& term, KeyType out_type, int64_t in);

/// Parses a Literal term's value for an input key. Unknown strings are interned.
std::optional<int64_t> literal_value(const MapTerm& term, const PartitionKeyDef& in_key, StringPool& pool);

}  // namespace dbuild
