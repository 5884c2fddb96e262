#pragma once
/// SourceFiles: owns the text of every file read by the front end, addressed by dense FileId.
/// Spans keep byte offsets; lines and columns are computed only when a diagnostic is printed.
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

class SourceFiles {
 public:
  /// Adds a file's text; `path` is what diagnostics print (relative to the workspace when possible).
  FileId add(std::string path, std::string text);

  const std::string& path(FileId id) const { return files_[id]->path; }
  std::string_view text(FileId id) const { return files_[id]->text; }
  size_t size() const { return files_.size(); }

  LineCol line_col(FileId id, uint32_t offset) const;
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
