#pragma once
/// The records the state store keeps, decoded into plain values. Their byte layout on disk is
/// documented in state_store.h and implemented in state_codec.cc.
#include <cstdint>
#include <string>
#include <vector>

#include "base/hash.h"

namespace dbuild {

/// Outcome of the last attempt to build a partition. The numeric values are stored on disk.
enum class PartitionStatus : uint8_t {
  kBuiltOk = 1,  // the last attempt succeeded; key/fingerprint describe the current data
  kFailed = 2,   // the last attempt failed; key/fingerprint still describe the previous success
  /// An attempt with key `failed_key` in run `failed_run_id` was started and has not been
  /// recorded: it is running now, or it was killed. Its data may have been committed, so the
  /// data may be the previous success's or that attempt's: the partition is not up to date
  /// until it is built again (docs/architecture.md, "Build protocol").
  kInFlight = 3,
};

/// What the store remembers about one partition of one dataset.
/// Invariant (docs/architecture.md, invariant 2): a failure never overwrites key/fingerprint/timing/row_count; it
/// sets status = kFailed, failed_key and failed_run_id only. Starting an attempt on a partition
/// that has a record sets status = kInFlight, failed_key and failed_run_id the same way.
struct PartitionRecord {
  Hash128 key;          // action key of the last successful build; zero: never built successfully
  Hash128 fingerprint;  // content hash of the output built with `key`; zero: never built
  PartitionStatus status = PartitionStatus::kBuiltOk;
  int64_t started_unix_ms = 0;   // start of the last successful build; 0: unknown
  int64_t finished_unix_ms = 0;  // end of the last successful build; 0: unknown
  uint64_t duration_ms = 0;      // of the last successful build
  int64_t row_count = -1;        // rows in the output; -1: unknown (e.g. shell outputs)
  uint64_t run_id = 0;           // run that built `key`; 0: none
  Hash128 failed_key;            // key of the last failed (or, kInFlight: unfinished) attempt
  uint64_t failed_run_id = 0;    // run of that attempt; 0: none
  Hash128 definition;            // the definition part of `key` (graph/action_key.h)
  Hash128 input_set;             // the input-set part of `key`: which partitions were read
  uint64_t changed_run_id = 0;   // run in which `fingerprint` last changed; 0: unknown

  bool has_build() const { return !key.is_zero(); }
  bool operator==(const PartitionRecord&) const = default;
};

/// How many actions a run did, by outcome.
struct RunCounts {
  uint64_t ran = 0;         // actions executed (successfully or not)
  uint64_t up_to_date = 0;  // skipped because up to date
  uint64_t cut_off = 0;     // skipped because every changed input came out identical
  uint64_t failed = 0;      // actions that failed
  bool operator==(const RunCounts&) const = default;
};

/// One invocation of a state-changing command (build, clear, mark-done...).
struct RunRecord {
  uint64_t run_id = 0;           // dense, increasing with time; 0 is never a valid run
  int64_t started_unix_ms = 0;
  int64_t finished_unix_ms = 0;  // 0: never finished (still running, or killed)
  std::string command_line;      // as typed, e.g. "dbuild build -j2 sales@2024-03-05"
  RunCounts counts;
  int32_t exit_status = -1;      // process exit code; -1: never finished
  bool operator==(const RunRecord&) const = default;
};

/// How a run ended; finish_run() adds it to the run's record.
struct RunOutcome {
  int64_t finished_unix_ms = 0;
  RunCounts counts;
  int32_t exit_status = 0;
};

/// The log of one action of one run (SQL error, stdout/stderr), possibly truncated.
struct LogEntry {
  uint64_t run_id = 0;
  std::string text;  // at most kMaxLogBytes; a longer log keeps head and tail around a marker
  bool operator==(const LogEntry&) const = default;
};

/// A source file's identity when its content hash was computed; a file whose stat still matches
/// is not re-read.
struct StatEntry {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  Hash128 content_hash;  // XXH3-128 of the file's bytes
  bool operator==(const StatEntry&) const = default;
};

/// One group of a grouped table (docs/language.md, Grouping): which input partitions it holds,
/// in the order they joined. A closed group (full, complete or flushed) never changes again.
struct GroupRecord {
  std::string id;                    // "g000001": the output partition's `group` key
  std::vector<std::string> members;  // partition texts of the grouped input
  bool closed = false;
  int64_t opened_unix_ms = 0;        // when its first member joined (for max_wait)
  bool operator==(const GroupRecord&) const = default;
};

/// Logs longer than this are stored as head + "... N bytes elided ..." + tail.
inline constexpr size_t kMaxLogBytes = 64 * 1024;

}  // namespace dbuild
