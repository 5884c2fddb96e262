#pragma once
/// Positions as the protocol counts them: a 0-based line and a 0-based character offset in
/// UTF-16 code units (LSP's default and only mandatory encoding), converted both ways to the
/// byte offsets that the rest of dbuild uses (UTF-8). A character past the end of its line
/// means the end of the line, a line past the end the end of the text, and a position inside
/// a character (the middle of a surrogate pair) the start of that character: requests with
/// stale positions never fail. Bytes that are not valid UTF-8 count as one unit each.
#include <cstdint>
#include <string_view>
#include <vector>

namespace dbuild::lsp {

struct Position {
  uint32_t line = 0;
  uint32_t character = 0;  // UTF-16 code units
  bool operator==(const Position&) const = default;
};

/// Line starts of one text, computed once; the text must outlive the index and not change.
class TextIndex {
 public:
  explicit TextIndex(std::string_view text);
  /// The byte offset of `p`, clamped as described above.
  uint32_t offset_of(Position p) const;
  /// The position of byte `offset` (clamped to the text; inside a character: its start).
  Position position_of(uint32_t offset) const;
  uint32_t line_count() const { return static_cast<uint32_t>(starts_.size()); }

 private:
  /// [begin, end) of line `line`'s content, without its \n or \r\n.
  std::pair<uint32_t, uint32_t> line_bounds(uint32_t line) const;
  std::string_view text_;
  std::vector<uint32_t> starts_;
};

/// Bytes of the UTF-8 sequence starting with `lead` (1 for a stray continuation byte).
uint32_t utf8_length(unsigned char lead);

}  // namespace dbuild::lsp
