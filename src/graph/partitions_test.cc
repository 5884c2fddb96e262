#include "graph/partitions.h"

#include <doctest/doctest.h>

#include <random>
#include <set>

namespace dbuild {
namespace {

std::vector<PartitionKeyDef> keys_of(std::vector<KeyType> types) {
  std::vector<PartitionKeyDef> keys;
  for (size_t i = 0; i < types.size(); ++i) {
    PartitionKeyDef k;
    k.name = "k" + std::to_string(i);
    k.type = types[i];
    keys.push_back(k);
  }
  return keys;
}

/// A random string that often holds the bytes the text form escapes.
std::string random_string(std::mt19937_64& rng) {
  static const std::string kTricky[] = {",", "%", "@", ".", "..", "*", "?", "+", " ", "\t", "\n",
                                        std::string(1, '\0'), "\x7f", "\xc3\xa9", "\xe2\x82\xac",
                                        "\xf0\x9f\x98\x80", "\xff", "\xc3", "\xed\xa0\x80", "%2C", "NULL", "a", "Z9"};
  std::string s;
  size_t n = rng() % 6;
  for (size_t i = 0; i < n; ++i) {
    if (rng() % 3 == 0) s += static_cast<char>(rng() % 256);
    else s += kTricky[rng() % std::size(kTricky)];
  }
  return s;
}

/// A random value of `type` in the range the text form covers (years 0000-9999).
int64_t random_value(std::mt19937_64& rng, KeyType type, StringPool& pool) {
  int64_t first_day = days_from_civil(0, 1, 1), last_day = days_from_civil(9999, 12, 31);
  auto in = [&](int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1)); };
  switch (type) {
    case KeyType::Date: return in(first_day, last_day);
    case KeyType::Month: return in(-1970 * 12, (9999 - 1970) * 12 + 11);
    case KeyType::Hour: return in(first_day * 24, last_day * 24 + 23);
    case KeyType::Int:
      return rng() % 4 == 0 ? static_cast<int64_t>(rng()) : in(-20, 20);  // full range, and small
    case KeyType::String: return pool.intern(random_string(rng));
  }
  return 0;
}

TEST_CASE("partition text: random tuples of every key type round-trip, and distinct tuples give distinct texts") {
  std::mt19937_64 rng(20240305);
  const KeyType all[] = {KeyType::Date, KeyType::Month, KeyType::Hour, KeyType::Int, KeyType::String};
  for (int shape = 0; shape < 200; ++shape) {
    std::vector<KeyType> types(1 + rng() % 3);
    for (auto& t : types) t = all[rng() % std::size(all)];
    auto keys = keys_of(types);
    StringPool pool;
    std::set<std::vector<int64_t>> tuples;
    std::set<std::string> texts;
    for (int i = 0; i < 100; ++i) {
      std::vector<int64_t> tuple;
      for (KeyType t : types) tuple.push_back(random_value(rng, t, pool));
      std::string text = partition_text(keys, tuple, pool);
      // tuple -> text -> tuple
      auto parsed = parse_partition_text(keys, text, pool);
      REQUIRE_MESSAGE(parsed.has_value(), text);
      CHECK(*parsed == tuple);
      std::vector<int64_t> found(keys.size());
      CHECK(find_partition_text(keys, text, pool, found));
      CHECK(found == tuple);
      // text -> tuple -> text
      CHECK(partition_text(keys, *parsed, pool) == text);
      // Nothing in the text form breaks selectors, keys or JSON.
      CHECK(text.find("..") == std::string::npos);
      CHECK(text.find('@') == std::string::npos);
      CHECK(text.find('\0') == std::string::npos);
      CHECK(!text.ends_with('+'));
      tuples.insert(tuple);
      texts.insert(text);
    }
    CHECK(tuples.size() == texts.size());  // injective
  }
}

TEST_CASE("partition text: plain values stay plain, special bytes are escaped") {
  auto keys = keys_of({KeyType::String});
  StringPool pool;
  auto text = [&](std::string_view s) { return partition_text(keys, std::vector<int64_t>{pool.intern(s)}, pool); };
  CHECK(text("US") == "US");
  CHECK(text("New York") == "New York");
  CHECK(text("v1.2") == "v1.2");
  CHECK(text("caf\xc3\xa9") == "caf\xc3\xa9");
  CHECK(text("a,b") == "a%2Cb");
  CHECK(text("50%") == "50%25");
  CHECK(text("C++") == "C%2B%2B");
  CHECK(text("a..b") == "a%2E%2Eb");
  CHECK(text("x@y") == "x%40y");
  CHECK(text("tab\there") == "tab%09here");
  CHECK(text("\xff") == "%FF");
  CHECK(text("") == "");

  auto two = keys_of({KeyType::String, KeyType::Int});
  std::vector<int64_t> t{pool.intern("a,b"), 7};
  CHECK(partition_text(two, t, pool) == "a%2Cb,7");
  CHECK(parse_partition_text(two, "a%2Cb,7", pool) == std::optional(t));
}

TEST_CASE("partition text: parsing is strict so that every tuple has one text") {
  StringPool pool;
  auto s = keys_of({KeyType::String});
  CHECK(!parse_partition_text(s, "a,b", pool));    // a raw comma: two values for one key
  CHECK(!parse_partition_text(s, "a%2cb", pool));  // lower-case hex
  CHECK(!parse_partition_text(s, "%41", pool));    // `A` needs no escape
  CHECK(!parse_partition_text(s, "50%", pool));    // a cut escape
  CHECK(!parse_partition_text(s, "a..b", pool));   // `..` is written %2E%2E
  CHECK(parse_partition_text(s, "a%2Cb", pool).has_value());
  auto i = keys_of({KeyType::Int});
  CHECK(!parse_partition_text(i, "007", pool));
  CHECK(!parse_partition_text(i, "-0", pool));
  CHECK(!parse_partition_text(i, "+5", pool));
  CHECK(parse_partition_text(i, "-5", pool) == std::optional(std::vector<int64_t>{-5}));
  auto h = keys_of({KeyType::Hour});
  CHECK(!parse_partition_text(h, "2024-03-05 13", pool));
  CHECK(parse_partition_text(h, "2024-03-05T13", pool).has_value());
  auto two = keys_of({KeyType::Date, KeyType::String});
  CHECK(!parse_partition_text(two, "2024-03-05", pool));
  CHECK(!parse_partition_text(two, "2024-03-05,a,b", pool));
  CHECK(parse_partition_text(two, "2024-03-05,", pool).has_value());  // the empty string
}

}  // namespace
}  // namespace dbuild
