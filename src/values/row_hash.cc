#include "values/row_hash.h"

#include <bit>
#include <cstring>

namespace dbuild::exec {

namespace {

void append_le(std::string& buf, uint64_t v, int bytes) {
  char b[8];
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(b, &v, sizeof b);
  } else {
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
  buf.append(b, static_cast<size_t>(bytes));
}

constexpr uint8_t kInt = 1, kReal = 2, kText = 3, kBlob = 4;

}  // namespace

void RowEncoder::add_name(std::string_view column, uint8_t tag) {
  append_le(buf_, column.size(), 4);
  buf_.append(column);
  buf_.push_back(static_cast<char>(tag));
}

void RowEncoder::add_u64(uint64_t v) { append_le(buf_, v, 8); }

void RowEncoder::add_int(std::string_view column, int64_t v) {
  add_name(column, kInt);
  add_u64(static_cast<uint64_t>(v));
}

void RowEncoder::add_real(std::string_view column, double v) {
  if (v == 0) v = 0.0;  // -0.0 == 0: both hash as +0.0
  add_name(column, kReal);
  add_u64(std::bit_cast<uint64_t>(v));
}

void RowEncoder::add_text(std::string_view column, std::string_view v) {
  add_name(column, kText);
  add_u64(v.size());
  buf_.append(v);
}

void RowEncoder::add_blob(std::string_view column, std::string_view v) {
  add_name(column, kBlob);
  add_u64(v.size());
  buf_.append(v);
}

void MultisetHash::add(const Hash128& row) {
  uint64_t lo = sum_.lo + row.lo;
  sum_.hi += row.hi + (lo < sum_.lo ? 1 : 0);
  sum_.lo = lo;
  ++rows_;
}

Hash128 MultisetHash::finish() const {
  Hasher h;
  h.add(std::string_view("dbuild.rows.v1"));
  h.add(rows_).add(sum_.lo).add(sum_.hi);
  return h.finish();
}

}  // namespace dbuild::exec
