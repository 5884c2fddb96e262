#include "graph/mapping_eval.h"

namespace dbuild {
namespace {

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : (a - b + 1) / b; }

ValueRange one(int64_t v) { return ValueRange{false, v, v}; }

}  // namespace

std::optional<int64_t> literal_value(const MapTerm& term, const PartitionKeyDef& in_key, StringPool& pool) {
  if (in_key.type == KeyType::String) return pool.intern(term.literal);
  return parse_key_value(in_key.type, term.literal);
}

ValueRange forward_term(const MapTerm& t, const std::vector<PartitionKeyDef>& out_keys,
                        std::span<const int64_t> out, int64_t literal) {
  using K = MapTerm::Kind;
  if (t.kind == K::All) return ValueRange{true};
  if (t.kind == K::Literal) return one(literal);
  int64_t k = out[t.out_key];
  KeyType type = out_keys[t.out_key].type;
  switch (t.kind) {
    case K::Key: return one(k + t.offset);
    case K::Range: return ValueRange{false, k + t.offset, k + t.offset_hi};
    case K::Month: return one(month_of_day(type == KeyType::Hour ? floor_div(k, 24) : k));
    case K::Date: return one(floor_div(k, 24));
    case K::Days: return ValueRange{false, first_day_of_month(k), first_day_of_month(k + 1) - 1};
    case K::Hours: return ValueRange{false, k * 24, k * 24 + 23};
    default: return ValueRange{true};
  }
}

ValueRange backward_term(const MapTerm& t, KeyType out_type, int64_t in) {
  using K = MapTerm::Kind;
  switch (t.kind) {
    case K::Key: return one(in - t.offset);
    case K::Range: return one(in - t.offset_hi);
    case K::Month: {  // every day (or hour) of month `in`
      int64_t first = first_day_of_month(in), last = first_day_of_month(in + 1) - 1;
      if (out_type == KeyType::Hour) return ValueRange{false, first * 24, last * 24 + 23};
      return ValueRange{false, first, last};
    }
    case K::Date: return ValueRange{false, in * 24, in * 24 + 23};
    case K::Days: return one(month_of_day(in));
    case K::Hours: return one(floor_div(in, 24));
    default: return ValueRange{true};
  }
}

}  // namespace dbuild
