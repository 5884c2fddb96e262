#include "base/diagnostic.h"

#include <algorithm>

#include <fmt/format.h>

namespace dbuild {

void Diagnostics::error(Span span, std::string message, std::string hint) {
  items_.push_back({Severity::Error, span, std::move(message), std::move(hint)});
}

void Diagnostics::warning(Span span, std::string message, std::string hint) {
  items_.push_back({Severity::Warning, span, std::move(message), std::move(hint)});
}

bool Diagnostics::has_errors() const {
  return std::any_of(items_.begin(), items_.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::Error; });
}

void Diagnostics::sort() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.span.file != b.span.file) return a.span.file < b.span.file;
    return a.span.begin < b.span.begin;
  });
}

std::string render(const Diagnostic& d, const SourceFiles& files) {
  const char* sev = d.severity == Severity::Error ? "error" : "warning";
  std::string out;
  if (d.span.file == kNoFile) {
    out = fmt::format("dbuild: {}: {}\n", sev, d.message);
  } else {
    LineCol lc = files.line_col(d.span.file, d.span.begin);
    out = fmt::format("{}:{}:{}: {}: {}\n", files.path(d.span.file), lc.line, lc.col, sev,
                      d.message);
    std::string_view line = files.line_text(d.span.file, lc.line);
    std::string gutter = std::to_string(lc.line);
    std::string pad(gutter.size(), ' ');
    // The caret covers the span, clipped to the first line.
    uint32_t width = d.span.end > d.span.begin ? d.span.end - d.span.begin : 1;
    uint32_t room = line.size() >= lc.col - 1 ? static_cast<uint32_t>(line.size()) - (lc.col - 1) : 0;
    width = std::max<uint32_t>(1, std::min(width, room));
    std::string marker(lc.col - 1, ' ');
    // Keep tabs so the caret lines up under tab-indented text.
    for (uint32_t i = 0; i + 1 < lc.col && i < line.size(); ++i)
      if (line[i] == '\t') marker[i] = '\t';
    marker += '^';
    if (width > 1) marker += std::string(width - 1, '~');
    out += fmt::format(" {} | {}\n {} | {}\n", gutter, line, pad, marker);
  }
  if (!d.hint.empty()) out += fmt::format("  hint: {}\n", d.hint);
  return out;
}

std::string render(const Diagnostics& ds, const SourceFiles& files) {
  std::string out;
  for (const auto& d : ds.items()) out += render(d, files);
  return out;
}

}  // namespace dbuild
