#pragma once
/// Row fingerprints: an order-independent hash of a partition's rows as a multiset.
///
/// Encoding of one row (key columns excluded), hashed with XXH3-128:
///   for each non-NULL column, in the table's column order:
///     u32 name length ‖ name bytes ‖ u8 tag ‖ payload
///   tag 1 INTEGER: 8 bytes, little-endian two's complement
///   tag 2 REAL:    8 bytes, little-endian IEEE-754 bits (-0.0 hashed as +0.0)
///   tag 3 TEXT, tag 4 BLOB: u64 length ‖ bytes
/// NULL columns are left out (with the column names in the encoding, rows stay distinct), so adding
/// a column to a table — every existing row reads NULL there — changes no stored fingerprint.
/// The integer 1 and the real 1.0 differ, as SQLite stores them differently.
///
/// Partition fingerprint = XXH3-128("dbuild.rows.v1" ‖ u64 row count ‖ u64 sum.lo ‖ u64 sum.hi),
/// where sum is the 128-bit sum (mod 2^128) of the row hashes: row order does not count,
/// duplicate rows do.
/// Not thread-safe; cheap to create one per partition.
#include <cstdint>
#include <string>
#include <string_view>

#include "base/hash.h"

namespace dbuild::exec {

/// Builds the encoding of one row in a reused buffer; the caller adds columns in table order.
class RowEncoder {
 public:
  void clear() { buf_.clear(); }
  void add_int(std::string_view column, int64_t v);
  void add_real(std::string_view column, double v);
  void add_text(std::string_view column, std::string_view v);
  void add_blob(std::string_view column, std::string_view v);
  /// XXH3-128 of the row encoded so far.
  Hash128 hash() const { return hash_bytes(buf_); }

 private:
  void add_name(std::string_view column, uint8_t tag);
  void add_u64(uint64_t v);
  std::string buf_;
};

/// The order-independent sum of row hashes.
class MultisetHash {
 public:
  void add(const Hash128& row);
  uint64_t rows() const { return rows_; }
  /// The partition fingerprint (see the file comment). An empty partition has a fixed value.
  Hash128 finish() const;

 private:
  Hash128 sum_;
  uint64_t rows_ = 0;
};

}  // namespace dbuild::exec
