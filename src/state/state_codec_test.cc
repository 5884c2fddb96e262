#include "state/state_codec.h"

#include <doctest/doctest.h>

namespace dbuild::state_codec {
namespace {

PartitionRecord sample_partition() {
  PartitionRecord r;
  r.key = {0x1111, 0x2222};
  r.fingerprint = {0x3333, 0x4444};
  r.status = PartitionStatus::kFailed;
  r.started_unix_ms = 1'700'000'000'000;
  r.finished_unix_ms = 1'700'000'000'500;
  r.duration_ms = 500;
  r.row_count = -1;
  r.run_id = 7;
  r.failed_key = {0x5555, 0x6666};
  r.failed_run_id = 8;
  return r;
}

TEST_CASE("state_codec: partition values round-trip and have the documented size") {
  std::string key = partition_key("sales", "2024-03-05");
  std::string value = encode_partition(key, sample_partition());
  CHECK(value.size() == 145);
  PartitionRecord out;
  REQUIRE(decode_partition(key, value, &out).ok());
  CHECK(out == sample_partition());
}

TEST_CASE("state_codec: a damaged value never decodes") {
  std::string key = partition_key("sales", "2024-03-05");
  std::string value = encode_partition(key, sample_partition());
  PartitionRecord out;
  SUBCASE("any flipped byte") {
    for (size_t i = 0; i < value.size(); ++i) {
      std::string bad = value;
      bad[i] ^= 0x01;
      CHECK_FALSE(decode_partition(key, bad, &out).ok());
    }
  }
  SUBCASE("truncated or extended") {
    for (size_t n = 0; n < value.size(); ++n) {
      CHECK_FALSE(decode_partition(key, value.substr(0, n), &out).ok());
    }
    CHECK_FALSE(decode_partition(key, value + "x", &out).ok());
  }
  SUBCASE("under another key") {
    CHECK(decode_partition(partition_key("sales", "2024-03-06"), value, &out).message() ==
          "checksum mismatch");
  }
  CHECK(out == PartitionRecord{});  // failed decodes leave the output alone
}

TEST_CASE("state_codec: runs, logs, stats and counters round-trip") {
  RunRecord run;
  run.run_id = 42;
  run.started_unix_ms = 10;
  run.finished_unix_ms = 20;
  run.command_line = "dbuild build -j2";
  run.counts = {3, 4, 5, 6};
  run.exit_status = 1;
  std::string rkey = run_key(42);
  RunRecord run_out;
  REQUIRE(decode_run(rkey, encode_run(rkey, run), &run_out).ok());
  CHECK(run_out == run);
  CHECK(encode_run(rkey, run).size() == 60 + run.command_line.size() + 4);

  std::string lkey = log_key("t", "p", 9);
  std::string text;
  REQUIRE(decode_log(lkey, encode_log(lkey, "boom\n"), &text).ok());
  CHECK(text == "boom\n");

  StatEntry st{1, 2, 3, 4, 5, {6, 7}};
  StatEntry st_out;
  REQUIRE(decode_stat("data/x.csv", encode_stat("data/x.csv", st), &st_out).ok());
  CHECK(st_out == st);
  CHECK(encode_stat("data/x.csv", st).size() == 64);

  uint64_t n = 0;
  REQUIRE(decode_u64("next_run_id", encode_u64("next_run_id", 99), &n).ok());
  CHECK(n == 99);
  uint32_t version = 0;
  REQUIRE(decode_version(encode_version(kFormatVersion), &version).ok());
  CHECK(version == kFormatVersion);
  CHECK(encode_version(1) == std::string("\x01\x00\x00\x00", 4));
  CHECK_FALSE(decode_version("abc", &version).ok());
}

TEST_CASE("state_codec: keys") {
  std::string_view dataset, partition;
  std::string pkey = partition_key("sales", "2024-03-05");
  CHECK(split_partition_key(pkey, &dataset, &partition));
  CHECK(dataset == "sales");
  CHECK(partition == "2024-03-05");
  std::string unpartitioned = partition_key("totals", "");
  CHECK(split_partition_key(unpartitioned, &dataset, &partition));
  CHECK(partition.empty());
  CHECK_FALSE(split_partition_key("no-separator", &dataset, &partition));
  CHECK_FALSE(split_partition_key(std::string("\0p", 2), &dataset, &partition));

  CHECK(run_key(1) == std::string("\0\0\0\0\0\0\0\x01", 8));
  CHECK(run_key(255) < run_key(256));  // big-endian: byte order is numeric order
  uint64_t id = 0;
  CHECK(parse_run_key(run_key(0x0102030405060708), &id));
  CHECK(id == 0x0102030405060708);

  std::string lkey = log_key("sales", "2024-03-05", 77);
  CHECK(lkey.starts_with(log_prefix("sales", "2024-03-05")));
  CHECK(split_log_key(lkey, &dataset, &partition, &id));
  CHECK(dataset == "sales");
  CHECK(partition == "2024-03-05");
  CHECK(id == 77);

  CHECK(check_names("sales", "2024-03-05").ok());
  CHECK(check_names("sales", "").ok());
  CHECK_FALSE(check_names("", "x").ok());
  CHECK_FALSE(check_names(std::string("a\0b", 3), "").ok());
  CHECK_FALSE(check_names("a", std::string(kMaxNameBytes, 'x')).ok());
  CHECK(check_names("a", std::string(kMaxNameBytes - 1, 'x')).ok());
}

TEST_CASE("state_codec: truncate_log keeps head and tail within the limit") {
  CHECK(truncate_log("short", 100) == "short");
  std::string text(200'000, 'a');
  text.replace(text.size() - 3, 3, "END");
  text.replace(0, 5, "BEGIN");
  std::string cut = truncate_log(text);
  CHECK(cut.size() <= kMaxLogBytes);
  CHECK(cut.size() > kMaxLogBytes - 64);
  CHECK(cut.starts_with("BEGIN"));
  CHECK(cut.ends_with("END"));
  size_t marker = cut.find("\n... ");
  REQUIRE(marker != std::string::npos);
  size_t elided = std::stoul(cut.substr(marker + 5));
  std::string marker_text = "\n... " + std::to_string(elided) + " bytes elided ...\n";
  CHECK(cut.substr(marker, marker_text.size()) == marker_text);
  CHECK(cut.size() - marker_text.size() + elided == text.size());
}

/// True if `s` is a sequence of whole UTF-8 characters (lead byte + its continuation bytes).
bool whole_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<uint8_t>(s[i]);
    size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : 4;
    if ((b & 0xC0) == 0x80 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<uint8_t>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

TEST_CASE("state_codec: truncate_log does not split UTF-8 characters") {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "\xc3\xa9\xe2\x82\xac";  // é€: 2- and 3-byte characters
  for (size_t limit = 64; limit < 200; ++limit) {
    std::string cut = truncate_log(text, limit);
    CHECK(cut.size() <= limit);
    CHECK(whole_utf8(cut));
  }
}

}  // namespace
}  // namespace dbuild::state_codec
