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

namespace {

/// Display columns of `text` on a terminal (display_width() of each character).
uint32_t text_width(std::string_view text) {
  uint32_t width = 0;
  for (size_t i = 0; i < text.size();) {
    Utf8Char c = decode_utf8(text, i);
    width += c.valid ? display_width(c.code_point) : 1;
    i += c.length;
  }
  return width;
}

/// The caret line under `line` for a span starting `column_bytes` bytes into it and
/// `span_bytes` long: padding as wide as the text before it on a terminal (tabs kept as tabs,
/// so they expand the same way), then ^~~ as wide as the spanned text, clipped to the line.
std::string caret_line(std::string_view line, size_t column_bytes, size_t span_bytes) {
  std::string_view before = line.substr(0, std::min(column_bytes, line.size()));
  std::string marker;
  for (size_t i = 0; i < before.size();) {
    Utf8Char c = decode_utf8(before, i);
    if (before[i] == '\t') marker += '\t';
    else marker.append(c.valid ? display_width(c.code_point) : 1, ' ');
    i += c.length;
  }
  std::string_view spanned = line.substr(before.size(), span_bytes);
  uint32_t width = std::max<uint32_t>(1, text_width(spanned));
  marker += '^';
  marker.append(width - 1, '~');
  return marker;
}

}  // namespace

std::string render(const Diagnostic& d, const SourceFiles& files) {
  const char* sev = d.severity == Severity::Error ? "error" : "warning";
  std::string out;
  if (d.span.file == kNoFile) {
    out = fmt::format("dbuild: {}: {}\n", sev, d.message);
  } else {
    // The printed column counts code points; the caret is placed by display width.
    TextPosition pos = files.position(d.span.file, d.span.begin);
    out = fmt::format("{}:{}:{}: {}: {}\n", files.path(d.span.file), pos.line, pos.column, sev, d.message);
    std::string_view line = files.line_text(d.span.file, pos.line);
    std::string gutter = std::to_string(pos.line);
    std::string pad(gutter.size(), ' ');
    // The caret covers the span, clipped to the first line.
    size_t span_bytes = d.span.end > d.span.begin ? d.span.end - d.span.begin : 0;
    out += fmt::format(" {} | {}\n {} | {}\n", gutter, line, pad,
                       caret_line(line, pos.byte_column - 1, span_bytes));
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
