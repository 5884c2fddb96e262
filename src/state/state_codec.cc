#include "state/state_codec.h"

#include <cstring>

#include <fmt/format.h>
#include <xxhash.h>

namespace dbuild::state_codec {
namespace {

constexpr size_t kChecksumBytes = 8;
constexpr size_t kHashBytes = 16;
constexpr size_t kPartitionPayload = 16 + 16 + 1 + 8 * 5 + 16 + 8 + 16 + 16 + 8;  // 137
constexpr size_t kStatPayload = 8 * 5 + kHashBytes;                   // 56

/// Appends little-endian fields to a string.
class ByteWriter {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { fixed(v, 4); }
  void u64(uint64_t v) { fixed(v, 8); }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void hash(const Hash128& h) {
    u64(h.lo);
    u64(h.hi);
  }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  /// Appends the checksum of key and payload and returns the value.
  std::string finish(std::string_view key);

 private:
  void fixed(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
  }
  std::string out_;
};

uint64_t checksum(std::string_view key, std::string_view payload) {
  uint64_t seed = XXH3_64bits(key.data(), key.size());
  return XXH3_64bits_withSeed(payload.data(), payload.size(), seed);
}

uint64_t load_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

std::string ByteWriter::finish(std::string_view key) {
  uint64_t sum = checksum(key, out_);
  u64(sum);
  return std::move(out_);
}

/// Reads little-endian fields from a payload; every read checks the remaining size. After a
/// failed read ok() is false and further reads return zeros.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  uint8_t u8() { return static_cast<uint8_t>(fixed(1)); }
  uint32_t u32() { return static_cast<uint32_t>(fixed(4)); }
  uint64_t u64() { return fixed(8); }
  int64_t i64() { return static_cast<int64_t>(fixed(8)); }
  Hash128 hash() {
    Hash128 h;
    h.lo = u64();
    h.hi = u64();
    return h;
  }
  std::string str() {
    uint32_t n = u32();
    if (!ok_ || n > in_.size() - pos_) return fail_str();
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  uint64_t fixed(int bytes) {
    if (!ok_ || in_.size() - pos_ < static_cast<size_t>(bytes)) {
      ok_ = false;
      return 0;
    }
    uint64_t v = load_le(in_.data() + pos_, bytes);
    pos_ += bytes;
    return v;
  }
  std::string fail_str() {
    ok_ = false;
    return {};
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

/// Checks the trailing checksum and the payload size; on success *payload is the value
/// without its checksum. expected_size 0: any size.
Status open_value(std::string_view key, std::string_view value, size_t expected_size,
                  std::string_view* payload) {
  if (value.size() < kChecksumBytes) {
    return Status::Error(fmt::format("value too short ({} bytes)", value.size()));
  }
  *payload = value.substr(0, value.size() - kChecksumBytes);
  if (expected_size != 0 && payload->size() != expected_size) {
    return Status::Error(
        fmt::format("value has {} bytes, expected {}", payload->size(), expected_size));
  }
  uint64_t stored = load_le(value.data() + payload->size(), kChecksumBytes);
  if (stored != checksum(key, *payload)) return Status::Error("checksum mismatch");
  return Status::Ok();
}

Status close_reader(const ByteReader& r) {
  if (!r.ok()) return Status::Error("value ends inside a field");
  if (!r.at_end()) return Status::Error("value has trailing bytes");
  return Status::Ok();
}

void put_be64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t load_be64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

}  // namespace

// ---- Keys ----

Status check_names(std::string_view dataset, std::string_view partition) {
  if (dataset.empty()) return Status::Error("state store: empty dataset name");
  if (dataset.find('\0') != std::string_view::npos ||
      partition.find('\0') != std::string_view::npos) {
    return Status::Error("state store: dataset or partition name contains a NUL byte");
  }
  if (dataset.size() + partition.size() > kMaxNameBytes) {
    return Status::Error(fmt::format("state store: '{}@{}...' is longer than {} bytes", dataset,
                                     partition.substr(0, 40), kMaxNameBytes));
  }
  return Status::Ok();
}

std::string partition_key(std::string_view dataset, std::string_view partition) {
  std::string key;
  key.reserve(dataset.size() + 1 + partition.size());
  key.append(dataset).push_back('\0');
  key.append(partition);
  return key;
}

std::string dataset_prefix(std::string_view dataset) {
  std::string prefix(dataset);
  prefix.push_back('\0');
  return prefix;
}

bool split_partition_key(std::string_view key, std::string_view* dataset,
                         std::string_view* partition) {
  size_t nul = key.find('\0');
  if (nul == std::string_view::npos || nul == 0) return false;
  *dataset = key.substr(0, nul);
  *partition = key.substr(nul + 1);
  return partition->find('\0') == std::string_view::npos;
}

std::string run_key(uint64_t run_id) {
  std::string key;
  put_be64(&key, run_id);
  return key;
}

bool parse_run_key(std::string_view key, uint64_t* run_id) {
  if (key.size() != 8) return false;
  *run_id = load_be64(key);
  return true;
}

std::string log_prefix(std::string_view dataset, std::string_view partition) {
  std::string prefix = partition_key(dataset, partition);
  prefix.push_back('\0');
  return prefix;
}

std::string log_key(std::string_view dataset, std::string_view partition, uint64_t run_id) {
  std::string key = log_prefix(dataset, partition);
  put_be64(&key, run_id);
  return key;
}

bool split_log_key(std::string_view key, std::string_view* dataset, std::string_view* partition,
                   uint64_t* run_id) {
  if (key.size() < 10 || key[key.size() - 9] != '\0') return false;
  *run_id = load_be64(key.substr(key.size() - 8));
  return split_partition_key(key.substr(0, key.size() - 9), dataset, partition);
}

// ---- Values ----

std::string encode_partition(std::string_view key, const PartitionRecord& r) {
  ByteWriter w;
  w.hash(r.key);
  w.hash(r.fingerprint);
  w.u8(static_cast<uint8_t>(r.status));
  w.i64(r.started_unix_ms);
  w.i64(r.finished_unix_ms);
  w.u64(r.duration_ms);
  w.i64(r.row_count);
  w.u64(r.run_id);
  w.hash(r.failed_key);
  w.u64(r.failed_run_id);
  w.hash(r.definition);
  w.hash(r.input_set);
  w.u64(r.changed_run_id);
  return w.finish(key);
}

Status decode_partition(std::string_view key, std::string_view value, PartitionRecord* out) {
  std::string_view payload;
  Status s = open_value(key, value, kPartitionPayload, &payload);
  if (!s.ok()) return s;
  ByteReader r(payload);
  PartitionRecord rec;
  rec.key = r.hash();
  rec.fingerprint = r.hash();
  uint8_t status = r.u8();
  if (status < 1 || status > 3) return Status::Error(fmt::format("bad status {}", status));
  rec.status = static_cast<PartitionStatus>(status);
  rec.started_unix_ms = r.i64();
  rec.finished_unix_ms = r.i64();
  rec.duration_ms = r.u64();
  rec.row_count = r.i64();
  rec.run_id = r.u64();
  rec.failed_key = r.hash();
  rec.failed_run_id = r.u64();
  rec.definition = r.hash();
  rec.input_set = r.hash();
  rec.changed_run_id = r.u64();
  s = close_reader(r);
  if (s.ok()) *out = rec;
  return s;
}

std::string encode_run(std::string_view key, const RunRecord& r) {
  ByteWriter w;
  w.i64(r.started_unix_ms);
  w.i64(r.finished_unix_ms);
  w.u64(r.counts.ran);
  w.u64(r.counts.up_to_date);
  w.u64(r.counts.cut_off);
  w.u64(r.counts.failed);
  w.u32(static_cast<uint32_t>(r.exit_status));
  w.str(r.command_line);
  return w.finish(key);
}

Status decode_run(std::string_view key, std::string_view value, RunRecord* out) {
  std::string_view payload;
  Status s = open_value(key, value, 0, &payload);
  if (!s.ok()) return s;
  RunRecord rec;
  if (!parse_run_key(key, &rec.run_id)) return Status::Error("bad run key");
  ByteReader r(payload);
  rec.started_unix_ms = r.i64();
  rec.finished_unix_ms = r.i64();
  rec.counts.ran = r.u64();
  rec.counts.up_to_date = r.u64();
  rec.counts.cut_off = r.u64();
  rec.counts.failed = r.u64();
  rec.exit_status = static_cast<int32_t>(r.u32());
  rec.command_line = r.str();
  s = close_reader(r);
  if (s.ok()) *out = std::move(rec);
  return s;
}

std::string encode_log(std::string_view key, std::string_view text) {
  ByteWriter w;
  w.str(text);
  return w.finish(key);
}

Status decode_log(std::string_view key, std::string_view value, std::string* text) {
  std::string_view payload;
  Status s = open_value(key, value, 0, &payload);
  if (!s.ok()) return s;
  ByteReader r(payload);
  std::string t = r.str();
  s = close_reader(r);
  if (s.ok()) *text = std::move(t);
  return s;
}

std::string encode_stat(std::string_view key, const StatEntry& e) {
  ByteWriter w;
  w.u64(e.dev);
  w.u64(e.ino);
  w.u64(e.size);
  w.i64(e.mtime_ns);
  w.i64(e.ctime_ns);
  w.hash(e.content_hash);
  return w.finish(key);
}

Status decode_stat(std::string_view key, std::string_view value, StatEntry* out) {
  std::string_view payload;
  Status s = open_value(key, value, kStatPayload, &payload);
  if (!s.ok()) return s;
  ByteReader r(payload);
  StatEntry e;
  e.dev = r.u64();
  e.ino = r.u64();
  e.size = r.u64();
  e.mtime_ns = r.i64();
  e.ctime_ns = r.i64();
  e.content_hash = r.hash();
  s = close_reader(r);
  if (s.ok()) *out = e;
  return s;
}

std::string encode_u64(std::string_view key, uint64_t value) {
  ByteWriter w;
  w.u64(value);
  return w.finish(key);
}

Status decode_u64(std::string_view key, std::string_view value, uint64_t* out) {
  std::string_view payload;
  Status s = open_value(key, value, 8, &payload);
  if (s.ok()) *out = load_le(payload.data(), 8);
  return s;
}

std::string groups_key(std::string_view dataset) {
  std::string key = "groups";
  key.push_back('\0');
  key.append(dataset);
  return key;
}

std::string encode_groups(std::string_view key, const std::vector<GroupRecord>& groups) {
  ByteWriter w;
  w.u32(static_cast<uint32_t>(groups.size()));
  for (const auto& g : groups) {
    w.str(g.id);
    w.u8(g.closed ? 1 : 0);
    w.i64(g.opened_unix_ms);
    w.u32(static_cast<uint32_t>(g.members.size()));
    for (const auto& m : g.members) w.str(m);
  }
  return w.finish(key);
}

Status decode_groups(std::string_view key, std::string_view value, std::vector<GroupRecord>* out) {
  std::string_view payload;
  Status s = open_value(key, value, 0, &payload);
  if (!s.ok()) return s;
  ByteReader r(payload);
  std::vector<GroupRecord> groups;
  uint32_t n = r.u32();
  // Every group takes at least 17 bytes: a bound that keeps a damaged count from allocating.
  if (n > payload.size() / 17) return Status::Error("group count exceeds the value");
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    GroupRecord g;
    g.id = r.str();
    uint8_t closed = r.u8();
    if (closed > 1) return Status::Error("bad group state");
    g.closed = closed == 1;
    g.opened_unix_ms = r.i64();
    uint32_t members = r.u32();
    if (members > payload.size() / 4) return Status::Error("member count exceeds the value");
    for (uint32_t m = 0; m < members && r.ok(); ++m) g.members.push_back(r.str());
    groups.push_back(std::move(g));
  }
  s = close_reader(r);
  if (s.ok()) *out = std::move(groups);
  return s;
}

std::string encode_version(uint32_t version) {
  std::string out(4, '\0');  // no checksum: every future version must be able to read it
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(version >> (8 * i));
  return out;
}

Status decode_version(std::string_view value, uint32_t* out) {
  if (value.size() != 4) {
    return Status::Error(fmt::format("format version has {} bytes, expected 4", value.size()));
  }
  *out = static_cast<uint32_t>(load_le(value.data(), 4));
  return Status::Ok();
}

// ---- Log truncation ----

namespace {

bool is_continuation(char c) { return (static_cast<uint8_t>(c) & 0xC0) == 0x80; }

}  // namespace

std::string truncate_log(std::string_view text, size_t limit) {
  if (text.size() <= limit) return std::string(text);
  // The marker's digits are bounded by the digits of text.size(); reserve for the worst case.
  std::string probe = fmt::format("\n... {} bytes elided ...\n", text.size());
  size_t keep = limit > probe.size() ? limit - probe.size() : 0;
  size_t head = keep / 2;
  size_t tail_start = text.size() - (keep - head);
  while (head > 0 && is_continuation(text[head])) --head;
  while (tail_start < text.size() && is_continuation(text[tail_start])) ++tail_start;
  std::string out(text.substr(0, head));
  out += fmt::format("\n... {} bytes elided ...\n", tail_start - head);
  out.append(text.substr(tail_start));
  return out;
}

}  // namespace dbuild::state_codec
