#pragma once
/// Splits SQL or command text into literal parts and `{{ expr }}` templates, parsing each
/// template's expression (the rules language's expression syntax: names, numbers, strings,
/// calls, + and -). Spans point into the rule file (or the .sql file) the text came from.
#include <string_view>
#include <vector>

#include "base/diagnostic.h"
#include "model/model.h"

namespace dbuild {

/// Where a text's content starts, to map offsets inside it back to a file.
/// `exact` is false for escaped strings, where offsets are approximate.
struct TextOrigin {
  FileId file = kNoFile;
  uint32_t begin = 0;
  bool exact = true;
  Span at(uint32_t offset, uint32_t length) const;
};

/// Splits `text` into parts. Malformed templates are reported to `diags`.
std::vector<TemplatePart> split_templates(std::string_view text, const TextOrigin& origin,
                                          Diagnostics& diags);

/// Parses a template expression. Returns nothing (and reports) on a syntax error.
std::optional<ast::Expr> parse_template_expr(std::string_view source, const TextOrigin& origin,
                                             uint32_t offset, Diagnostics& diags);

}  // namespace dbuild
