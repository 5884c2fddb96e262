#pragma once
/// format_rules: the one canonical layout of a rule file (`dbuild fmt`, and the editor's
/// "format document").
///
/// The formatter works on tree-sitter's concrete tree, not on the typed AST, because comments
/// live only there. It changes whitespace only: every token is written as it was (identifiers,
/// numbers, and string literals byte for byte, so SQL and commands keep their own layout),
/// every comment is kept at its place, and the two token changes it makes cannot change what
/// the file means (a trailing comma before `]` or `)` is dropped; a `;` is dropped except
/// where it separates `check "text"` from a following `sql` clause). The layout is described
/// in docs/language.md ("Formatting"); this code follows exactly that.
///
/// Guarantees, held by src/format/formatter_test.cc:
///   - idempotent: formatting the result again gives the same bytes;
///   - the multiset of comment texts is unchanged (trailing blanks of a comment are trimmed);
///   - the typed AST, and so every definition hash, is unchanged;
///   - the result ends with exactly one newline (an empty file stays empty).
///
/// Pure, thread-safe (each call has its own parser) and linear in the size of the text.
#include <string>
#include <string_view>

#include "base/status.h"

namespace dbuild {

/// The canonical text of a rule file. A text with a syntax error (any ERROR or MISSING node,
/// or brackets nested too deeply) is an error naming `path_for_messages:line:col` of the first
/// one: the formatter never rewrites a file it cannot parse.
Result<std::string> format_rules(std::string_view text, std::string_view path_for_messages);

}  // namespace dbuild
