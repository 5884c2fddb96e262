#pragma once
/// A small SQL tokenizer shared by dependency inference and query normalization.
/// It knows enough SQL to skip strings, quoted identifiers and comments, and it recognizes
/// dbuild's `{{ expr }}` templates as single tokens. It never fails: unterminated strings or
/// comments run to the end of the text (the engine reports the real SQL error).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dbuild {

/// One SQL token; `text` views the input, `offset` is its byte offset in it.
struct SqlToken {
  enum class Kind { Word, QuotedIdent, String, Number, Punct, Template, Comment };
  Kind kind;
  std::string_view text;
  uint32_t offset;
};

/// Tokenizes `sql`, dropping whitespace. Comments are kept (kind Comment) so callers decide.
std::vector<SqlToken> tokenize_sql(std::string_view sql);

/// The query text with comments dropped, whitespace collapsed to single spaces between
/// tokens, and unquoted words lower-cased: reformatting a query does not change it.
std::string normalize_sql(std::string_view sql);

/// A table named in a FROM or JOIN clause (CTE names excluded), with its offset in the SQL.
struct SqlTableRef {
  std::string name;   // unquoted; `schema.table` kept whole
  uint32_t offset;
  uint32_t length;
};
std::vector<SqlTableRef> tables_read(std::string_view sql);

/// The name a quoted or plain identifier token stands for ("a""b" -> a"b).
std::string identifier_name(const SqlToken& token);

}  // namespace dbuild
