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
