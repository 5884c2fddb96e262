// JSON lines: a small in-place scanner for one object per line. It keeps byte positions (for
// "file:line:col" errors) and copies only strings with escapes.
#include <unordered_map>

#include "loading/loader_formats.h"

namespace dbuild::exec {

namespace {

/// A read position in one line.
struct Scanner {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i == s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
  bool lit(char c) {
    if (peek() != c) return false;
    ++i;
    return true;
  }
  void ws() {
    while (!done() && (s[i] == ' ' || s[i] == '\t')) ++i;
  }
  bool word(std::string_view w) {
    if (s.substr(i, w.size()) != w) return false;
    i += w.size();
    return true;
  }
};

void append_utf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool hex4(Scanner& s, uint32_t* out) {
  if (s.s.size() - s.i < 4) return false;
  uint32_t v = 0;
  for (int k = 0; k < 4; ++k) {
    char c = s.s[s.i++];
    int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
    if (d < 0) return false;
    v = v * 16 + static_cast<uint32_t>(d);
  }
  *out = v;
  return true;
}

/// After "\u": one code point, combining a surrogate pair; a lone surrogate becomes U+FFFD.
bool unicode_escape(Scanner& s, std::string* out) {
  uint32_t cp = 0;
  if (!hex4(s, &cp)) return false;
  if (cp >= 0xD800 && cp <= 0xDBFF && s.s.substr(s.i, 2) == "\\u") {
    Scanner look = s;
    look.i += 2;
    uint32_t low = 0;
    if (hex4(look, &low) && low >= 0xDC00 && low <= 0xDFFF) {
      s = look;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
  }
  if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
  append_utf8(out, cp);
  return true;
}

bool escape(Scanner& s, std::string* out) {
  char c = s.peek();
  ++s.i;
  switch (c) {
    case '"': case '\\': case '/': out->push_back(c); return true;
    case 'b': out->push_back('\b'); return true;
    case 'f': out->push_back('\f'); return true;
    case 'n': out->push_back('\n'); return true;
    case 'r': out->push_back('\r'); return true;
    case 't': out->push_back('\t'); return true;
    case 'u': return unicode_escape(s, out);
    default: return false;
  }
}

/// REQUIRES: s.peek() == '"'. *out views the line, or *scratch when the string has escapes.
bool parse_string(Scanner& s, std::string* scratch, std::string_view* out) {
  size_t start = ++s.i;
  while (!s.done() && s.s[s.i] != '"' && s.s[s.i] != '\\') ++s.i;
  if (s.lit('"')) {
    *out = s.s.substr(start, s.i - 1 - start);
    return true;
  }
  scratch->assign(s.s.substr(start, s.i - start));
  while (!s.done()) {
    char c = s.s[s.i++];
    if (c == '"') {
      *out = *scratch;
      return true;
    }
    if (c != '\\') {
      scratch->push_back(c);
    } else if (!escape(s, scratch)) {
      return false;
    }
  }
  return false;
}

/// REQUIRES: s.peek() is '{' or '['. Skips the balanced value.
bool skip_nested(Scanner& s) {
  int depth = 0;
  std::string unused;
  std::string_view text;
  while (!s.done()) {
    char c = s.peek();
    if (c == '"') {
      if (!parse_string(s, &unused, &text)) return false;
      continue;
    }
    ++s.i;
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && --depth == 0) return true;
  }
  return false;
}

bool number(Scanner& s) {
  size_t start = s.i;
  bool digit = false;
  while (!s.done() && std::string_view("+-0123456789.eE").find(s.peek()) != std::string_view::npos) {
    digit |= s.peek() >= '0' && s.peek() <= '9';
    ++s.i;
  }
  return s.i > start && digit;
}

/// One JSON object per line; picks the members named like the columns.
class JsonParser : public RecordParser {
 public:
  JsonParser(LoaderInput* in, const std::vector<ColumnSpec>& columns)
      : in_(in), scratch_(columns.size()) {
    names_.reserve(columns.size());
    for (const ColumnSpec& c : columns) names_.push_back(c.name);
    for (size_t i = 0; i < names_.size(); ++i) index_.emplace(names_[i], i);
  }

  Result<ParseOutcome> next(std::vector<RawField>* fields, Malformed* bad) override {
    std::string_view line;
    uint64_t number = 0;
    Result<bool> got = in_->next_nonempty_line(&line, &number);
    if (!got.ok()) return got.status();
    if (!*got) return ParseOutcome::End;
    fields->assign(names_.size(), RawField{{}, number, 1, /*null=*/true, false});
    Scanner s{line};
    if (!parse_object(s, number, fields, bad)) return ParseOutcome::Malformed;
    return ParseOutcome::Record;
  }

 private:
  bool fail(const Scanner& s, uint64_t line, const char* expected, Malformed* bad) {
    *bad = {line, static_cast<uint32_t>(s.i + 1), expected};
    return false;
  }
  bool parse_object(Scanner& s, uint64_t line, std::vector<RawField>* fields, Malformed* bad);
  bool parse_member(Scanner& s, uint64_t line, std::vector<RawField>* fields, Malformed* bad);
  bool parse_value(Scanner& s, std::string* scratch, RawField* f);

  LoaderInput* in_;
  std::vector<std::string> names_;  // column names, owned for index_'s keys
  std::unordered_map<std::string_view, size_t> index_;  // column name → column
  std::vector<std::string> scratch_;  // per column: unescaped string values
  std::string key_scratch_, skip_scratch_;
};

bool JsonParser::parse_object(Scanner& s, uint64_t line, std::vector<RawField>* fields,
                              Malformed* bad) {
  s.ws();
  if (!s.lit('{')) return fail(s, line, "expected a JSON object ('{')", bad);
  s.ws();
  if (!s.lit('}')) {
    for (;;) {
      if (!parse_member(s, line, fields, bad)) return false;
      s.ws();
      if (s.lit('}')) break;
      if (!s.lit(',')) return fail(s, line, "expected ',' or '}' in the JSON object", bad);
    }
  }
  s.ws();
  if (!s.done()) return fail(s, line, "expected the end of the line after the JSON object", bad);
  return true;
}

bool JsonParser::parse_member(Scanner& s, uint64_t line, std::vector<RawField>* fields,
                              Malformed* bad) {
  s.ws();
  std::string_view key;
  if (s.peek() != '"' || !parse_string(s, &key_scratch_, &key)) {
    return fail(s, line, "expected a key (a JSON string)", bad);
  }
  s.ws();
  if (!s.lit(':')) return fail(s, line, "expected ':' after the key", bad);
  s.ws();
  auto it = index_.find(key);
  RawField f{{}, line, static_cast<uint32_t>(s.i + 1), false, false};
  if (!parse_value(s, it == index_.end() ? &skip_scratch_ : &scratch_[it->second], &f)) {
    return fail(s, line, "expected a JSON value", bad);
  }
  if (it != index_.end()) (*fields)[it->second] = f;
  return true;
}

bool JsonParser::parse_value(Scanner& s, std::string* scratch, RawField* f) {
  size_t start = s.i;
  char c = s.peek();
  if (c == '"') {
    f->quoted = true;
    return parse_string(s, scratch, &f->text);
  }
  bool ok = false;
  if (c == '{' || c == '[') {
    ok = skip_nested(s);
  } else if (c == 'n') {
    ok = f->null = s.word("null");
  } else if (c == 't' || c == 'f') {
    ok = s.word("true") || s.word("false");
  } else {
    ok = number(s);
  }
  f->text = s.s.substr(start, s.i - start);
  return ok;
}

}  // namespace

std::unique_ptr<RecordParser> make_json_parser(LoaderInput* in,
                                               const std::vector<ColumnSpec>& columns) {
  return std::make_unique<JsonParser>(in, columns);
}

}  // namespace dbuild::exec
