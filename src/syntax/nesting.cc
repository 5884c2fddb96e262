#include "syntax/nesting.h"

namespace dbuild {
namespace {

/// The offset just after the string or comment starting at `i`, or `i` if none starts there.
size_t skip_string_or_comment(std::string_view t, size_t i) {
  auto line_end = [&](size_t from) {
    size_t nl = t.find('\n', from);
    return nl == std::string_view::npos ? t.size() : nl;
  };
  if (t[i] == '#') return line_end(i);
  if (t.substr(i, 3) == "\"\"\"") {
    size_t close = t.find("\"\"\"", i + 3);
    return close == std::string_view::npos ? t.size() : close + 3;
  }
  if (t[i] == '"') {
    size_t j = i + 1;
    while (j < t.size() && t[j] != '"' && t[j] != '\n') j += t[j] == '\\' ? 2 : 1;
    return j < t.size() ? j + 1 : t.size();
  }
  if (t[i] == '\'') {
    size_t j = i + 1;
    while (j < t.size() && t[j] != '\'' && t[j] != '\n') ++j;
    return j < t.size() ? j + 1 : t.size();
  }
  return i;
}

}  // namespace

std::optional<uint32_t> first_too_deep(std::string_view t) {
  int depth = 0;
  size_t i = 0;
  while (i < t.size()) {
    size_t after = skip_string_or_comment(t, i);
    if (after != i) {
      i = after;
      continue;
    }
    char c = t[i];
    if (c == '(' || c == '[' || c == '{') {
      if (++depth > kMaxNesting) return static_cast<uint32_t>(i);
    } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    ++i;
  }
  return std::nullopt;
}

}  // namespace dbuild
