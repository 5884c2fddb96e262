#include "base/source_files.h"

#include <algorithm>

namespace dbuild {

FileId SourceFiles::add(std::string path, std::string text) {
  auto file = std::make_unique<File>();
  file->path = std::move(path);
  file->text = std::move(text);
  files_.push_back(std::move(file));
  return static_cast<FileId>(files_.size() - 1);
}

const std::vector<uint32_t>& SourceFiles::line_starts(FileId id) const {
  File& f = *files_[id];
  if (f.line_starts.empty()) {
    f.line_starts.push_back(0);
    for (uint32_t i = 0; i < f.text.size(); ++i)
      if (f.text[i] == '\n') f.line_starts.push_back(i + 1);
  }
  return f.line_starts;
}

LineCol SourceFiles::line_col(FileId id, uint32_t offset) const {
  const auto& starts = line_starts(id);
  offset = std::min<uint32_t>(offset, files_[id]->text.size());
  auto it = std::upper_bound(starts.begin(), starts.end(), offset);
  uint32_t line = static_cast<uint32_t>(it - starts.begin());
  return LineCol{line, offset - starts[line - 1] + 1};
}

std::string_view SourceFiles::line_text(FileId id, uint32_t line) const {
  const auto& starts = line_starts(id);
  std::string_view text = files_[id]->text;
  if (line == 0 || line > starts.size()) return {};
  uint32_t begin = starts[line - 1];
  uint32_t end = line < starts.size() ? starts[line] - 1 : text.size();
  std::string_view s = text.substr(begin, end - begin);
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

}  // namespace dbuild

namespace dbuild {
namespace {

/// Where line `line` (1-based) starts and ends (before its newline) in `text`.
struct LineBounds {
  uint32_t begin = 0;
  uint32_t end = 0;
};

/// Counts columns over [begin, end) of one line in all three units.
TextPosition count_columns(std::string_view text, uint32_t line, uint32_t begin, uint32_t end) {
  TextPosition p{line, 1, 1, end - begin + 1};
  for (uint32_t i = begin; i < end;) {
    Utf8Char c = decode_utf8(text, i);
    if (i + c.length > end) break;  // `end` inside a character: the character's start
    p.column += 1;
    p.utf16_column += c.code_point > 0xFFFF ? 2 : 1;
    i += c.length;
  }
  return p;
}

/// The byte offset, from `begin`, where `utf16_column` falls on the line [begin, end).
uint32_t utf16_to_offset(std::string_view text, uint32_t begin, uint32_t end, uint32_t utf16_column) {
  uint32_t units = 1, i = begin;
  while (i < end && units < utf16_column) {
    Utf8Char c = decode_utf8(text, i);
    uint32_t w = c.code_point > 0xFFFF ? 2 : 1;
    if (units + w > utf16_column) break;  // inside a surrogate pair
    units += w;
    i += c.length;
  }
  return i;
}

}  // namespace

Utf8Char decode_utf8(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return {c, 1, true};
  uint32_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? (c <= 0xEF ? 3 : 0) : c >= 0xC2 ? 2 : 0;
  if (len == 0 || i + len > s.size()) return {c, 1, false};
  uint32_t cp = c & (0x7F >> len);
  for (uint32_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return {c, 1, false};
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
  if (overlong || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return {c, 1, false};
  return {cp, len, true};
}

int display_width(uint32_t cp) {
  struct Range {
    uint32_t first, last;
  };
  // Zero width: combining marks, zero-width space/joiners, variation selectors.
  static constexpr Range kZero[] = {{0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A},
                                    {0x064B, 0x065F}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F},
                                    {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xE0100, 0xE01EF}};
  // Wide: Hangul Jamo, CJK, Hiragana/Katakana, Hangul syllables, fullwidth forms, emoji.
  static constexpr Range kWide[] = {
      {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},   {0x23F0, 0x23F0},
      {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},   {0x2648, 0x2653},   {0x267F, 0x267F},
      {0x2693, 0x2693},   {0x26A1, 0x26A1},   {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},
      {0x26CE, 0x26CE},   {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
      {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},   {0x2728, 0x2728},
      {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},   {0x2757, 0x2757},   {0x2795, 0x2797},
      {0x27B0, 0x27B0},   {0x27BF, 0x27BF},   {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},
      {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
      {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},
      {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4}, {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF},
      {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251},
      {0x1F300, 0x1F320}, {0x1F32D, 0x1F335}, {0x1F337, 0x1F37C}, {0x1F37E, 0x1F393}, {0x1F3A0, 0x1F3CA},
      {0x1F3CF, 0x1F3D3}, {0x1F3E0, 0x1F3F0}, {0x1F3F4, 0x1F3F4}, {0x1F3F8, 0x1F43E}, {0x1F440, 0x1F440},
      {0x1F442, 0x1F4FC}, {0x1F4FF, 0x1F53D}, {0x1F54B, 0x1F54E}, {0x1F550, 0x1F567}, {0x1F57A, 0x1F57A},
      {0x1F595, 0x1F596}, {0x1F5A4, 0x1F5A4}, {0x1F5FB, 0x1F64F}, {0x1F680, 0x1F6C5}, {0x1F6CC, 0x1F6CC},
      {0x1F6D0, 0x1F6D2}, {0x1F6D5, 0x1F6D7}, {0x1F6EB, 0x1F6EC}, {0x1F6F4, 0x1F6FC}, {0x1F7E0, 0x1F7EB},
      {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945}, {0x1F947, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD},
      {0x30000, 0x3FFFD}};
  auto in = [cp](const auto& table) {
    for (const Range& r : table)
      if (cp >= r.first && cp <= r.last) return true;
    return false;
  };
  if (cp < 0x300) return 1;  // the common case, fast
  if (in(kZero)) return 0;
  return in(kWide) ? 2 : 1;
}

TextPosition text_position(std::string_view text, uint32_t offset) {
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(text.size()));
  uint32_t line = 1, begin = 0;
  for (uint32_t i = 0; i < offset; ++i)
    if (text[i] == '\n') ++line, begin = i + 1;
  return count_columns(text, line, begin, offset);
}

uint32_t offset_of_utf16(std::string_view text, uint32_t line, uint32_t utf16_column) {
  uint32_t begin = 0;
  for (uint32_t l = 1; l < line; ++l) {
    size_t nl = text.find('\n', begin);
    if (nl == std::string_view::npos) return static_cast<uint32_t>(text.size());
    begin = static_cast<uint32_t>(nl + 1);
  }
  size_t nl = text.find('\n', begin);
  uint32_t end = nl == std::string_view::npos ? static_cast<uint32_t>(text.size()) : static_cast<uint32_t>(nl);
  return utf16_to_offset(text, begin, end, utf16_column);
}

TextPosition SourceFiles::position(FileId id, uint32_t offset) const {
  LineCol lc = line_col(id, offset);
  uint32_t end = line_starts(id)[lc.line - 1] + lc.col - 1;
  return count_columns(files_[id]->text, lc.line, end - (lc.col - 1), end);
}

uint32_t SourceFiles::offset_of_utf16(FileId id, uint32_t line, uint32_t utf16_column) const {
  const auto& starts = line_starts(id);
  std::string_view text = files_[id]->text;
  if (line == 0) line = 1;
  if (line > starts.size()) return static_cast<uint32_t>(text.size());
  uint32_t begin = starts[line - 1];
  uint32_t end = line < starts.size() ? starts[line] - 1 : static_cast<uint32_t>(text.size());
  return utf16_to_offset(text, begin, end, utf16_column);
}

}  // namespace dbuild
