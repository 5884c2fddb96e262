#pragma once
/// SourceFiles: owns the text of every file read by the front end, addressed by dense FileId.
/// Spans keep byte offsets; lines and columns are computed only when a diagnostic is printed.
/// Columns come in three units (TextPosition): code points for people, UTF-16 code units
/// for editors speaking LSP, bytes for the code; text_position() and offset_of_utf16()
/// convert between them for any text, SourceFiles::position() for an added file.
/// Not thread-safe for concurrent add(); reads of added files are safe.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dbuild {

using FileId = uint32_t;
inline constexpr FileId kNoFile = UINT32_MAX;

/// A byte range [begin, end) in one file. A default Span points at no file.
struct Span {
  FileId file = kNoFile;
  uint32_t begin = 0;
  uint32_t end = 0;
};

/// Line and column, both 1-based; column counts bytes.
struct LineCol {
  uint32_t line = 1;
  uint32_t col = 1;
};

/// A position as people and editors count it, all 1-based: `column` counts Unicode code points
/// (what diagnostics print), `utf16_column` UTF-16 code units (what LSP clients and VS Code
/// use: characters outside the Basic Multilingual Plane count 2), `byte_column` bytes.
/// A byte that is not part of valid UTF-8 counts as one code point and one UTF-16 unit, so
/// every byte offset has a position and the conversions never fail.
struct TextPosition {
  uint32_t line = 1;
  uint32_t column = 1;
  uint32_t utf16_column = 1;
  uint32_t byte_column = 1;
};

/// The position of byte `offset` in `text` (clamped to its size). An offset inside a
/// multibyte character counts as that character's start.
TextPosition text_position(std::string_view text, uint32_t offset);
/// The byte offset of a 1-based line and UTF-16 column in `text`, as an LSP client sends it:
/// a column past the end of its line is the line's end, a line past the last is the text's
/// end, and a column inside a surrogate pair is the character's start.
uint32_t offset_of_utf16(std::string_view text, uint32_t line, uint32_t utf16_column);

/// Decodes the UTF-8 character at `s[i]`: its code point and its length in bytes. A byte
/// that does not start a valid, shortest-form sequence decodes as itself, length 1, with
/// `valid` false (a terminal shows it as one replacement character).
struct Utf8Char {
  uint32_t code_point = 0;
  uint32_t length = 1;
  bool valid = true;
};
Utf8Char decode_utf8(std::string_view s, size_t i);

/// Columns a terminal gives a code point: 2 for East Asian wide and fullwidth characters
/// and emoji, 0 for combining marks and zero-width characters, 1 otherwise. A fixed table
/// rather than wcwidth(), whose answer depends on the process's locale.
int display_width(uint32_t code_point);

class SourceFiles {
 public:
  /// Adds a file's text; `path` is what diagnostics print (relative to the workspace when possible).
  FileId add(std::string path, std::string text);

  const std::string& path(FileId id) const { return files_[id]->path; }
  std::string_view text(FileId id) const { return files_[id]->text; }
  size_t size() const { return files_.size(); }

  LineCol line_col(FileId id, uint32_t offset) const;
  /// text_position() using this file's cached line starts.
  TextPosition position(FileId id, uint32_t offset) const;
  /// offset_of_utf16() using this file's cached line starts.
  uint32_t offset_of_utf16(FileId id, uint32_t line, uint32_t utf16_column) const;
  /// The text of the 1-based line, without its newline.
  std::string_view line_text(FileId id, uint32_t line) const;

 private:
  struct File {
    std::string path;
    std::string text;
    std::vector<uint32_t> line_starts;  // computed on first use
  };
  const std::vector<uint32_t>& line_starts(FileId id) const;
  std::vector<std::unique_ptr<File>> files_;
};

}  // namespace dbuild
