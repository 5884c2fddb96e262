#include "model/sql_lexer.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace dbuild {
namespace {

bool is_word_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

/// Length of a quoted run starting at `i` with `open`, ending at `close`; doubled close
/// characters are escapes. Runs to the end when unterminated.
size_t quoted_length(std::string_view s, size_t i, char close) {
  size_t j = i + 1;
  while (j < s.size()) {
    if (s[j] == close) {
      if (j + 1 < s.size() && s[j + 1] == close && close != ']') {
        j += 2;
        continue;
      }
      return j + 1 - i;
    }
    ++j;
  }
  return s.size() - i;
}

size_t token_length(std::string_view s, size_t i, SqlToken::Kind& kind) {
  char c = s[i];
  char next = i + 1 < s.size() ? s[i + 1] : '\0';
  if (c == '-' && next == '-') {
    kind = SqlToken::Kind::Comment;
    size_t e = s.find('\n', i);
    return (e == std::string_view::npos ? s.size() : e) - i;
  }
  if (c == '/' && next == '*') {
    kind = SqlToken::Kind::Comment;
    size_t e = s.find("*/", i + 2);
    return (e == std::string_view::npos ? s.size() : e + 2) - i;
  }
  if (c == '{' && next == '{') {
    kind = SqlToken::Kind::Template;
    size_t e = s.find("}}", i + 2);
    return (e == std::string_view::npos ? s.size() : e + 2) - i;
  }
  if (c == '\'') {
    kind = SqlToken::Kind::String;
    return quoted_length(s, i, '\'');
  }
  if (c == '"' || c == '`' || c == '[') {
    kind = SqlToken::Kind::QuotedIdent;
    return quoted_length(s, i, c == '[' ? ']' : c);
  }
  if (is_word_start(c)) {
    kind = SqlToken::Kind::Word;
    size_t j = i + 1;
    while (j < s.size() && is_word_char(s[j])) ++j;
    return j - i;
  }
  if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && std::isdigit(static_cast<unsigned char>(next)))) {
    kind = SqlToken::Kind::Number;
    size_t j = i + 1;
    while (j < s.size() && (is_word_char(s[j]) || s[j] == '.')) ++j;
    return j - i;
  }
  kind = SqlToken::Kind::Punct;
  static const char* kTwo[] = {"<=", ">=", "<>", "!=", "==", "||", "<<", ">>", "->"};
  for (const char* op : kTwo)
    if (c == op[0] && next == op[1]) return 2;
  return 1;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool word_is(const SqlToken& t, std::string_view kw) {
  if (t.kind != SqlToken::Kind::Word || t.text.size() != kw.size()) return false;
  for (size_t i = 0; i < kw.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(t.text[i])) != kw[i]) return false;
  return true;
}

bool is_identifier(const SqlToken& t) {
  return t.kind == SqlToken::Kind::Word || t.kind == SqlToken::Kind::QuotedIdent;
}

}  // namespace

std::vector<SqlToken> tokenize_sql(std::string_view sql) {
  std::vector<SqlToken> tokens;
  size_t i = 0;
  while (i < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[i]))) {
      ++i;
      continue;
    }
    SqlToken::Kind kind;
    size_t n = token_length(sql, i, kind);
    tokens.push_back({kind, sql.substr(i, n), static_cast<uint32_t>(i)});
    i += n;
  }
  return tokens;
}

namespace {

/// Appends the normalized tokens of `sql` to *out. Inside a template a `{{` token is kept as
/// written: template expressions hold no templates, and normalizing one nested `{{` per level
/// would recurse as deep as the text is long (a long run of braces overflowed the stack).
void append_normalized(std::string_view sql, bool in_template, std::string* out) {
  bool first = true;
  for (const SqlToken& t : tokenize_sql(sql)) {
    if (t.kind == SqlToken::Kind::Comment) continue;
    if (!first) *out += ' ';
    first = false;
    if (t.kind == SqlToken::Kind::Word) {
      *out += lower(t.text);
    } else if (t.kind == SqlToken::Kind::Template && !in_template) {
      *out += "{{";
      append_normalized(t.text.substr(2, t.text.size() >= 4 ? t.text.size() - 4 : 0), true, out);
      *out += "}}";
    } else {
      *out += t.text;
    }
  }
}

}  // namespace

std::string normalize_sql(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  append_normalized(sql, false, &out);
  return out;
}

std::string identifier_name(const SqlToken& t) {
  if (t.kind != SqlToken::Kind::QuotedIdent || t.text.size() < 2) return std::string(t.text);
  char close = t.text[0] == '[' ? ']' : t.text[0];
  std::string out;
  std::string_view body = t.text.substr(1, t.text.size() - 2);
  for (size_t i = 0; i < body.size(); ++i) {
    out += body[i];
    if (body[i] == close && i + 1 < body.size() && body[i + 1] == close) ++i;
  }
  return out;
}

namespace {

/// Collects CTE names: `WITH [RECURSIVE] name [(cols)] AS (`, and `, name [(cols)] AS (`
/// inside a WITH list.
std::set<std::string> cte_names(const std::vector<SqlToken>& t) {
  std::set<std::string> names;
  for (size_t i = 0; i < t.size(); ++i) {
    if (!word_is(t[i], "with")) continue;
    size_t j = i + 1;
    if (j < t.size() && word_is(t[j], "recursive")) ++j;
    while (j < t.size() && is_identifier(t[j])) {
      std::string name = lower(identifier_name(t[j]));
      ++j;
      if (j < t.size() && t[j].text == "(") {  // column list
        while (j < t.size() && t[j].text != ")") ++j;
        ++j;
      }
      if (j >= t.size() || !word_is(t[j], "as")) break;
      names.insert(name);
      // Skip the CTE body: balanced parentheses (after optional MATERIALIZED keywords).
      while (j < t.size() && t[j].text != "(") ++j;
      int depth = 0;
      for (; j < t.size(); ++j) {
        if (t[j].text == "(") ++depth;
        if (t[j].text == ")" && --depth == 0) break;
      }
      ++j;
      if (j < t.size() && t[j].text == ",") ++j;
      else break;
    }
  }
  return names;
}

}  // namespace

std::vector<SqlTableRef> tables_read(std::string_view sql) {
  std::vector<SqlToken> all = tokenize_sql(sql);
  std::vector<SqlToken> t;
  std::copy_if(all.begin(), all.end(), std::back_inserter(t),
               [](const SqlToken& x) { return x.kind != SqlToken::Kind::Comment; });
  std::set<std::string> ctes = cte_names(t);
  std::vector<SqlTableRef> refs;
  auto add_ref = [&](size_t i) -> size_t {
    // A table reference: name or schema.name; returns the index after it.
    std::string name = identifier_name(t[i]);
    uint32_t begin = t[i].offset;
    uint32_t end = t[i].offset + static_cast<uint32_t>(t[i].text.size());
    size_t j = i + 1;
    if (j + 1 < t.size() && t[j].text == "." && is_identifier(t[j + 1])) {
      name += "." + identifier_name(t[j + 1]);
      end = t[j + 1].offset + static_cast<uint32_t>(t[j + 1].text.size());
      j += 2;
    }
    if (j < t.size() && t[j].text == "(") return j;  // table-valued function
    if (!ctes.count(lower(name))) refs.push_back({name, begin, end - begin});
    return j;
  };
  for (size_t i = 0; i + 1 < t.size(); ++i) {
    if (!word_is(t[i], "from") && !word_is(t[i], "join")) continue;
    size_t j = i + 1;
    // FROM a, b AS x, c y — a comma list at this parenthesis depth.
    while (j < t.size() && is_identifier(t[j])) {
      j = add_ref(j);
      if (j + 1 < t.size() && word_is(t[j], "as")) j += 2;
      else if (j < t.size() && is_identifier(t[j]) && !word_is(t[j], "where") &&
          !word_is(t[j], "join") && !word_is(t[j], "on") && !word_is(t[j], "group") &&
          !word_is(t[j], "order") && !word_is(t[j], "limit") && !word_is(t[j], "left") &&
          !word_is(t[j], "inner") && !word_is(t[j], "cross") && !word_is(t[j], "natural") &&
          !word_is(t[j], "union") && !word_is(t[j], "using") && !word_is(t[j], "full") &&
          !word_is(t[j], "right") && !word_is(t[j], "having") && !word_is(t[j], "window") &&
          !word_is(t[j], "except") && !word_is(t[j], "intersect"))
        ++j;  // alias
      if (j < t.size() && t[j].text == ",") ++j;
      else break;
    }
  }
  return refs;
}

}  // namespace dbuild
