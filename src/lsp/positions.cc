#include "lsp/positions.h"

#include <algorithm>

namespace dbuild::lsp {

uint32_t utf8_length(unsigned char lead) {
  if (lead < 0xC0) return 1;  // ASCII, or a continuation byte out of place
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF8) return 4;
  return 1;
}

namespace {

/// UTF-16 units of the sequence starting at `lead`: astral characters (4 bytes) take two.
uint32_t utf16_units(unsigned char lead) { return utf8_length(lead) == 4 ? 2 : 1; }

}  // namespace

TextIndex::TextIndex(std::string_view text) : text_(text) {
  starts_.push_back(0);
  for (uint32_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') starts_.push_back(i + 1);
}

std::pair<uint32_t, uint32_t> TextIndex::line_bounds(uint32_t line) const {
  uint32_t begin = starts_[line];
  uint32_t end = line + 1 < starts_.size() ? starts_[line + 1] - 1 : static_cast<uint32_t>(text_.size());
  if (end > begin && text_[end - 1] == '\r') --end;
  return {begin, end};
}

uint32_t TextIndex::offset_of(Position p) const {
  if (p.line >= starts_.size()) return static_cast<uint32_t>(text_.size());
  auto [at, end] = line_bounds(p.line);
  uint32_t units = 0;
  while (at < end) {
    unsigned char c = static_cast<unsigned char>(text_[at]);
    uint32_t next_units = units + utf16_units(c);
    if (next_units > p.character) break;  // p is before or inside this character
    units = next_units;
    at = std::min(end, at + utf8_length(c));
  }
  return at;
}

Position TextIndex::position_of(uint32_t offset) const {
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(text_.size()));
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  uint32_t line = static_cast<uint32_t>(it - starts_.begin()) - 1;
  auto [at, end] = line_bounds(line);
  offset = std::min(offset, end);
  uint32_t units = 0;
  while (at < offset) {
    unsigned char c = static_cast<unsigned char>(text_[at]);
    uint32_t len = utf8_length(c);
    if (at + len > offset) break;  // offset inside a character: its start
    units += utf16_units(c);
    at += len;
  }
  return Position{line, units};
}

}  // namespace dbuild::lsp
