#pragma once
/// Diagnostic: one problem found in the user's input, with a span and an optional hint.
/// Diagnostics keep byte offsets; render() turns them into compiler-style text:
///
///   path:line:col: error: message
///       3 |   partition day: dat
///         |                  ^~~
///     hint: key types are date, month, hour, int, string
#include <string>
#include <vector>

#include "base/source_files.h"

namespace dbuild {

enum class Severity { Error, Warning };

struct Diagnostic {
  Severity severity = Severity::Error;
  Span span;            // span.file == kNoFile: no location (printed as "dbuild: error: ...")
  std::string message;
  std::string hint;     // empty: none
};

/// Collects diagnostics in the order they were found.
class Diagnostics {
 public:
  void error(Span span, std::string message, std::string hint = {});
  void warning(Span span, std::string message, std::string hint = {});
  void add(Diagnostic d) { items_.push_back(std::move(d)); }

  bool has_errors() const;
  size_t size() const { return items_.size(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  /// Sorts by file, then offset (stable), so output does not depend on checking order.
  void sort();

 private:
  std::vector<Diagnostic> items_;
};

/// Renders one diagnostic (ending with a newline). `col` counts Unicode code points; the
/// caret line is padded by the display width of the text before the span (tabs kept, East
/// Asian wide characters and emoji two columns) and underlines the span's display width, so
/// it lines up on a terminal whatever the line holds.
std::string render(const Diagnostic& d, const SourceFiles& files);
/// Renders all, in order.
std::string render(const Diagnostics& ds, const SourceFiles& files);

}  // namespace dbuild
