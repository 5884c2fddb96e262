#pragma once
/// Limits on how deeply user input may nest, so that every recursive walk of the front end
/// (tree-sitter's parser, the AST builder, the template parser, the model's expression checks)
/// stays far from the end of the stack. Rule files never need more than a few levels; the
/// limits only stop pathological or generated input, with a diagnostic instead of a crash.
#include <cstdint>
#include <optional>
#include <string_view>

namespace dbuild {

/// The most brackets `(`, `[`, `{` a rule file or a template may nest.
inline constexpr int kMaxNesting = 100;
/// The most levels an expression may have, counting operators as well as brackets: `1 + 2 + 3`
/// has three levels, `-(-1)` two.
inline constexpr int kMaxExprDepth = 200;

/// The byte offset of the first bracket in a rule file's text that opens level kMaxNesting + 1,
/// or nothing. Brackets inside strings and comments do not count (strings and comments as the
/// rules grammar reads them: `"""..."""`, `"..."` with escapes, `'...'`, `#` to the line end).
std::optional<uint32_t> first_too_deep(std::string_view text);

}  // namespace dbuild
