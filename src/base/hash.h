#pragma once
/// Hash128: XXH3-128 digests, the currency of action keys and fingerprints.
/// Hasher streams typed fields with length prefixes so ("ab","c") and ("a","bc") differ.
#include <cstdint>
#include <string>
#include <string_view>

#include <xxhash.h>

namespace dbuild {

struct Hash128 {
  uint64_t lo = 0;
  uint64_t hi = 0;
  bool operator==(const Hash128&) const = default;
  bool is_zero() const { return lo == 0 && hi == 0; }
  std::string hex() const;  // 32 lowercase hex digits, high half first
};

Hash128 hash_bytes(std::string_view bytes);

/// Streaming XXH3-128. Not copyable (owns the XXH3 state).
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  Hasher& add_raw(const void* data, size_t size);
  Hasher& add(std::string_view s);  // length-prefixed
  Hasher& add(uint64_t v);
  Hasher& add(const Hash128& h);
  Hash128 finish() const;

 private:
  XXH3_state_t* state_;
};

}  // namespace dbuild
