#include "base/hash.h"

#include <fmt/format.h>

namespace dbuild {

std::string Hash128::hex() const { return fmt::format("{:016x}{:016x}", hi, lo); }

Hash128 hash_bytes(std::string_view bytes) {
  XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  return Hash128{h.low64, h.high64};
}

Hasher::Hasher() : state_(XXH3_createState()) { XXH3_128bits_reset(state_); }
Hasher::~Hasher() { XXH3_freeState(state_); }

Hasher& Hasher::add_raw(const void* data, size_t size) {
  XXH3_128bits_update(state_, data, size);
  return *this;
}

Hasher& Hasher::add(std::string_view s) {
  add(static_cast<uint64_t>(s.size()));
  return add_raw(s.data(), s.size());
}

Hasher& Hasher::add(uint64_t v) { return add_raw(&v, sizeof v); }

Hasher& Hasher::add(const Hash128& h) {
  add(h.lo);
  return add(h.hi);
}

Hash128 Hasher::finish() const {
  XXH128_hash_t h = XXH3_128bits_digest(state_);
  return Hash128{h.low64, h.high64};
}

}  // namespace dbuild
