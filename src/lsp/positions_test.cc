#include "lsp/positions.h"

#include <doctest/doctest.h>

#include <string>

namespace dbuild::lsp {

// é is 2 bytes / 1 unit, 中 and 文 3 bytes / 1 unit each, 😀 4 bytes / 2 units.
TEST_CASE("lsp: UTF-16 positions after é, 中文 and an emoji, both ways") {
  std::string text = "ab\n# é中文😀 x_y\nlast";
  TextIndex idx(text);
  size_t x = text.find("x_y");
  // Before x on line 1: "# " (2) + é (1) + 中文 (2) + 😀 (2) + " " (1) = 8 units, 14 bytes.
  CHECK(idx.position_of(static_cast<uint32_t>(x)) == Position{1, 8});
  CHECK(idx.offset_of(Position{1, 8}) == x);
  CHECK(idx.offset_of(Position{1, 3}) == text.find("中"));
  CHECK(idx.position_of(static_cast<uint32_t>(text.find("文"))) == Position{1, 4});
  CHECK(idx.offset_of(Position{1, 5}) == text.find("😀"));
  CHECK(idx.offset_of(Position{1, 7}) == text.find(" x_y"));
  // Every byte offset that starts a character round-trips.
  for (uint32_t off = 0; off <= text.size(); ++off) {
    if (off < text.size() && (static_cast<unsigned char>(text[off]) & 0xC0) == 0x80) continue;
    CHECK(idx.offset_of(idx.position_of(off)) == off);
  }
}

TEST_CASE("lsp: positions past the end and inside a surrogate pair are clamped") {
  std::string text = "a😀b\r\nsecond";
  TextIndex idx(text);
  CHECK(idx.offset_of(Position{0, 2}) == 1);      // inside 😀: its start
  CHECK(idx.offset_of(Position{0, 99}) == text.find('\r'));  // past the line: its end, before \r\n
  CHECK(idx.offset_of(Position{7, 0}) == text.size());       // past the last line: the end
  CHECK(idx.position_of(999) == Position{1, 6});
  CHECK(idx.position_of(2) == Position{0, 1});    // a byte inside 😀: the character's start
  CHECK(idx.position_of(static_cast<uint32_t>(text.find('\n'))) == Position{0, 4});
}

TEST_CASE("lsp: invalid UTF-8 counts one unit per byte and never crashes") {
  std::string text = "\xff\xfe" "ab\xe4";  // stray bytes and a truncated 3-byte sequence
  TextIndex idx(text);
  CHECK(idx.offset_of(Position{0, 2}) == 2);
  CHECK(idx.position_of(4) == Position{0, 4});
  CHECK(idx.offset_of(Position{0, 9}) == text.size());
}

}  // namespace dbuild::lsp
