#pragma once
/// lmdb_check: a structural check of an LMDB data file (data.mdb) that a corrupt file cannot
/// crash. LMDB trusts its file: a flipped byte in a page header can make it read outside its
/// map, divide by zero, or write into its read-only map. Checking the file before LMDB opens it
/// turns such corruption into a reported problem instead of a crash.
///
/// Checked (LMDB 0.9 data format, MDB_DATA_VERSION 1, as written by mdb.c):
///   - both meta pages: page type, magic, data version, equal page sizes (a power of two);
///   - the meta LMDB will use (highest txnid, ties to page 0) sits in the slot of its txnid's
///     parity, as LMDB's readers assume;
///   - the free-page tree, the main tree and every named database in it: each page lies inside
///     the file, is reached exactly once, has the expected type (no stray flags such as P_DIRTY)
///     and its own page number; node offsets and key/data sizes lie inside their page; overflow
///     runs lie inside the file and are long enough; all leaves sit at the recorded depth; the
///     recorded page and entry counts match; named databases use no LMDB flags (no DUPSORT);
///   - free pages: in [2, last page], listed once, not in use, lists sorted as LMDB writes them;
///     pages past the end of the file must all be free.
/// Not checked: key order, and what values mean (state_codec checks every value).
///
/// Thread-safe (no shared state). The file is mapped read-only; only an external truncation of
/// the file while the check runs could still fault, as it would fault LMDB itself.
#include <cstdint>
#include <string>

#include "base/status.h"

namespace dbuild {

/// The verdict on one data file.
enum class LmdbFileState : uint8_t {
  kAbsent,   // no file, or an empty one (LMDB will initialize it)
  kSound,    // passed every check
  kCorrupt,  // `problem` says what is wrong
  kChanged,  // a writer committed while the check ran: the verdict is unknown, check again
};

/// The result of check_lmdb_file().
struct LmdbFileCheck {
  LmdbFileState state = LmdbFileState::kAbsent;
  std::string problem;     // kCorrupt only, e.g. "page 17 (leaf): node 3 extends past the page"
  uint32_t page_size = 0;  // kSound only
  uint64_t txnid = 0;      // kSound only: the transaction that committed the checked snapshot
  uint64_t file_bytes = 0;
};

/// Checks the LMDB data file at `path`. Error: the file exists but cannot be opened or mapped.
Result<LmdbFileCheck> check_lmdb_file(const std::string& path);

}  // namespace dbuild
