#pragma once
/// state_codec: the byte layout of the state store's keys and values (documented in
/// state_store.h). Encoders write little-endian fixed-width fields and u32-length-prefixed
/// strings, then an 8-byte checksum of key and payload. Decoders check every size, enum value
/// and the checksum before filling their output: a value that fails any check is never used.
/// Internal to src/state; stateless and thread-safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "state/state_records.h"

namespace dbuild::state_codec {

/// Version of the layout below; bump it on any change (old state is then discarded, not read).
/// Version 2 added partition status 3 (in flight); version 3 added meta "groups" records. A
/// version 1 or 2 state is read as it is and upgraded in place by the first read-write open.
inline constexpr uint32_t kFormatVersion = 3;
inline constexpr uint32_t kOldestReadableVersion = 1;
/// LMDB's key size limit (mdb_env_get_maxkeysize() with the default build).
inline constexpr size_t kMaxKeyBytes = 511;
/// Longest dataset + partition text accepted, leaving room for the log key's separators and id.
inline constexpr size_t kMaxNameBytes = kMaxKeyBytes - 10;

// ---- Keys ----

/// Ok if `dataset` is non-empty, neither contains '\0' and together they fit in a key.
Status check_names(std::string_view dataset, std::string_view partition);
/// partitions key: dataset '\0' partition. REQUIRES: check_names(dataset, partition).ok().
std::string partition_key(std::string_view dataset, std::string_view partition);
/// The prefix shared by all partition keys of `dataset`: dataset '\0'.
std::string dataset_prefix(std::string_view dataset);
/// Splits a partitions key; false if it has no '\0' or an empty dataset.
bool split_partition_key(std::string_view key, std::string_view* dataset,
                         std::string_view* partition);

/// runs key: the run id, 8 bytes big-endian (cursor order is run order).
std::string run_key(uint64_t run_id);
bool parse_run_key(std::string_view key, uint64_t* run_id);

/// logs key: dataset '\0' partition '\0' run id (8 bytes big-endian).
std::string log_key(std::string_view dataset, std::string_view partition, uint64_t run_id);
/// The prefix of all log keys of one partition: dataset '\0' partition '\0'.
std::string log_prefix(std::string_view dataset, std::string_view partition);
bool split_log_key(std::string_view key, std::string_view* dataset, std::string_view* partition,
                   uint64_t* run_id);

// ---- Values (each decoder returns a message without context; the caller adds the key) ----

std::string encode_partition(std::string_view key, const PartitionRecord& record);
Status decode_partition(std::string_view key, std::string_view value, PartitionRecord* out);

std::string encode_run(std::string_view key, const RunRecord& record);  // run_id is in the key
Status decode_run(std::string_view key, std::string_view value, RunRecord* out);

std::string encode_log(std::string_view key, std::string_view text);
Status decode_log(std::string_view key, std::string_view value, std::string* text);

std::string encode_stat(std::string_view key, const StatEntry& entry);
Status decode_stat(std::string_view key, std::string_view value, StatEntry* out);

std::string encode_u64(std::string_view key, uint64_t value);  // meta "next_run_id"
Status decode_u64(std::string_view key, std::string_view value, uint64_t* out);

/// meta key of a grouped table's groups: "groups" '\0' dataset.
std::string groups_key(std::string_view dataset);
/// Every group of one table, in order.
std::string encode_groups(std::string_view key, const std::vector<GroupRecord>& groups);
Status decode_groups(std::string_view key, std::string_view value, std::vector<GroupRecord>* out);

/// meta "version": exactly 4 bytes, u32 little-endian, no checksum, so that every future
/// version of dbuild can read it.
std::string encode_version(uint32_t version);
Status decode_version(std::string_view value, uint32_t* out);

/// `text` cut to at most `limit` bytes: head, "\n... N bytes elided ...\n", tail, cut on UTF-8
/// character boundaries. Text within the limit is returned unchanged.
/// REQUIRES: limit >= 64.
std::string truncate_log(std::string_view text, size_t limit = kMaxLogBytes);

}  // namespace dbuild::state_codec
