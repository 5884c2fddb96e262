#include "format/formatter.h"

#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <tree_sitter/api.h>

#include "base/diagnostic.h"
#include "base/source_files.h"
#include "syntax/nesting.h"
#include "syntax/rules_parser.h"

namespace dbuild {
namespace {

constexpr int kIndent = 2;        // spaces per block level
constexpr size_t kMaxWidth = 100;  // a one-line nested block must fit in this many columns
constexpr const char* kFixFirst =
    "fix the syntax error first; dbuild fmt never rewrites a file it cannot parse";

struct ParserDeleter {
  void operator()(TSParser* p) const { ts_parser_delete(p); }
};
struct TreeDeleter {
  void operator()(TSTree* t) const { ts_tree_delete(t); }
};

bool is(const char* type, const char* want) { return std::strcmp(type, want) == 0; }

/// What a token is for the layout.
enum class Role {
  Plain,       // inside a statement
  StmtStart,   // the first token of a declaration or of a statement in a block
  OpenBrace,   // `{` of a block or test body
  CloseBrace,  // its `}`
  Comment,
  Semicolon,   // a `;` between statements
  Skip,        // dropped: a trailing comma, a `;` that separates nothing
};

struct Token {
  uint32_t begin = 0, end = 0;
  const char* type = "";       // tree-sitter node type of the token
  const char* parent = "";     // type of its parent node
  const char* stmt = "";       // StmtStart: the statement's node type
  Role role = Role::Plain;
  int level = 0;               // StmtStart and braces: the block level of the statement
  int block = -1;              // braces: index into Layout::blocks
};

struct BlockInfo {
  size_t open = 0, close = 0;  // token indexes of `{` and `}`
  size_t owner = 0;            // token index of the first token of the statement owning it
  bool nested = false;         // the body of a `name { }` nested block
  bool one_line = false;       // laid out as `name { a = 1 b = 2 }`
};

/// The tokens of a parsed file, in order, with what the layout needs to know about each.
struct Layout {
  std::string_view src;
  std::vector<Token> tokens;
  std::vector<BlockInfo> blocks;
};

bool is_statement_list(const char* type) {
  return is(type, "source_file") || is(type, "block") || is(type, "test_body");
}

/// Flattens the concrete tree into tokens. Iterative: expression trees may be deep.
Layout collect_tokens(std::string_view src, TSNode root) {
  Layout out;
  out.src = src;
  struct Frame {
    const char* type;
    int level;   // the block level of the statement this node belongs to
    int block;   // index into out.blocks for block and test_body nodes
  };
  std::vector<Frame> frames = {{ts_node_type(root), 0, -1}};
  bool pending_start = false;
  int pending_level = 0;
  const char* pending_stmt = "";
  size_t last_start = 0;
  TSTreeCursor cursor = ts_tree_cursor_new(root);
  bool more = ts_tree_cursor_goto_first_child(&cursor);
  while (more) {
    TSNode node = ts_tree_cursor_current_node(&cursor);
    const char* type = ts_node_type(node);
    const Frame& parent = frames.back();
    int level = is(parent.type, "block") || is(parent.type, "test_body") ? parent.level + 1 : parent.level;
    bool in_list = is_statement_list(parent.type);
    bool leaf = ts_node_child_count(node) == 0 || is(type, "string");
    if (in_list && !is(type, "{") && !is(type, "}") && !is(type, ";") && !is(type, "comment")) {
      pending_start = true;
      pending_level = level;
      pending_stmt = type;
    }
    if (leaf) {
      Token t;
      t.begin = ts_node_start_byte(node);
      t.end = ts_node_end_byte(node);
      t.type = type;
      t.parent = parent.type;
      if (is(type, "comment")) {
        t.role = Role::Comment;
      } else if (in_list && parent.block >= 0 && (is(type, "{") || is(type, "}"))) {
        t.level = parent.level;
        t.block = parent.block;
        BlockInfo& b = out.blocks[static_cast<size_t>(parent.block)];
        if (is(type, "{")) {
          t.role = Role::OpenBrace;
          b.open = out.tokens.size();
        } else {
          t.role = Role::CloseBrace;
          b.close = out.tokens.size();
        }
      } else if (in_list && is(type, ";")) {
        t.role = Role::Semicolon;
      } else if (pending_start) {
        t.role = Role::StmtStart;
        t.level = pending_level;
        t.stmt = pending_stmt;
        pending_start = false;
        last_start = out.tokens.size();
      }
      out.tokens.push_back(t);
    } else if (ts_tree_cursor_goto_first_child(&cursor)) {
      int block = -1;
      if (is(type, "block") || is(type, "test_body")) {
        block = static_cast<int>(out.blocks.size());
        BlockInfo b;
        b.owner = last_start;
        b.nested = is(parent.type, "nested_block");
        out.blocks.push_back(b);
      }
      frames.push_back({type, level, block});
      continue;
    }
    while (!(more = ts_tree_cursor_goto_next_sibling(&cursor))) {
      if (!ts_tree_cursor_goto_parent(&cursor)) break;
      frames.pop_back();
    }
  }
  ts_tree_cursor_delete(&cursor);
  return out;
}

// ---- token decisions ----

std::string_view text_of(const Layout& l, const Token& t) {
  std::string_view s = l.src.substr(t.begin, t.end - t.begin);
  if (t.role == Role::Comment) {
    // Trailing blanks of a comment are not part of the layout worth keeping.
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  }
  return s;
}

/// The next token after `i` that is neither a comment nor dropped, or tokens.size().
size_t next_code(const Layout& l, size_t i) {
  for (size_t j = i + 1; j < l.tokens.size(); ++j) {
    Role r = l.tokens[j].role;
    if (r != Role::Comment && r != Role::Skip) return j;
  }
  return l.tokens.size();
}

/// The token before `i` that is not a comment, or nothing.
std::optional<size_t> prev_code(const Layout& l, size_t i) {
  for (size_t j = i; j-- > 0;)
    if (l.tokens[j].role != Role::Comment) return j;
  return std::nullopt;
}

/// `check "text"; sql """..."""`: without the `;`, the string would become the check's label
/// and the sql clause its query. Everywhere else a `;` separates nothing that newlines do not.
bool semicolon_needed(const Layout& l, size_t i) {
  auto before = prev_code(l, i);
  if (!before || !is(l.tokens[*before].type, "string") || !is(l.tokens[*before].parent, "check_clause"))
    return false;
  auto keyword = prev_code(l, *before);
  if (!keyword || !is(l.tokens[*keyword].type, "check")) return false;
  size_t next = next_code(l, i);
  return next < l.tokens.size() && l.tokens[next].role == Role::StmtStart &&
         is(l.tokens[next].stmt, "sql_clause");
}

/// Drops trailing commas and separating semicolons (see the header).
void mark_dropped_tokens(Layout& l) {
  for (size_t i = 0; i < l.tokens.size(); ++i) {
    Token& t = l.tokens[i];
    if (t.role == Role::Semicolon && !semicolon_needed(l, i)) t.role = Role::Skip;
    if (t.role == Role::Plain && is(t.type, ",")) {
      size_t next = next_code(l, i);
      if (next < l.tokens.size() && (is(l.tokens[next].type, "]") || is(l.tokens[next].type, ")")))
        t.role = Role::Skip;
    }
  }
}

/// Whether one space separates two tokens written on the same line.
bool space_between(const Token& a, const Token& b) {
  if (is(b.type, ",") || is(b.type, ")") || is(b.type, "]") || is(b.type, ":") || b.role == Role::Semicolon)
    return false;
  if (is(a.type, "(") || is(a.type, "[")) return false;
  if (is(b.type, "(") && is(b.parent, "arguments")) return false;  // f(x)
  if (is(b.type, "[") && is(b.parent, "mapping")) return false;    // events[day]
  if (is(a.type, "-") && is(a.parent, "unary_expression")) return false;
  return true;
}

/// Decides which nested blocks stay on one line: made only of attributes and column fields,
/// no comment, written on one line, and the whole statement fits in kMaxWidth columns.
void choose_one_line_blocks(Layout& l) {
  for (BlockInfo& b : l.blocks) {
    if (!b.nested || b.close <= b.open) continue;
    std::string_view written = l.src.substr(l.tokens[b.open].begin, l.tokens[b.close].end - l.tokens[b.open].begin);
    if (written.find('\n') != std::string_view::npos) continue;
    bool simple = true;
    for (size_t i = b.open + 1; i < b.close && simple; ++i) {
      const Token& t = l.tokens[i];
      if (t.role == Role::Comment || t.role == Role::Semicolon) simple = false;
      if (t.role == Role::StmtStart && !is(t.stmt, "attribute") && !is(t.stmt, "field_declaration"))
        simple = false;
    }
    if (!simple) continue;
    size_t width = static_cast<size_t>(l.tokens[b.owner].level * kIndent);
    const Token* prev = nullptr;
    for (size_t i = b.owner; i <= b.close; ++i) {
      const Token& t = l.tokens[i];
      if (t.role == Role::Skip) continue;
      if (prev) width += 1;  // on one line, every token is separated by at most one space
      if (prev && !space_between(*prev, t)) width -= 1;
      width += t.end - t.begin;
      prev = &t;
    }
    b.one_line = width <= kMaxWidth;
  }
}

// ---- writing ----

/// Writes the tokens with the canonical whitespace.
class Writer {
 public:
  explicit Writer(const Layout& l) : l_(l) {}

  std::string run() {
    for (size_t i = 0; i < l_.tokens.size(); ++i) {
      const Token& t = l_.tokens[i];
      switch (t.role) {
        case Role::Skip: continue;
        case Role::Comment: comment(i); break;
        case Role::StmtStart: statement_start(i); break;
        case Role::OpenBrace: open_brace(i); break;
        case Role::CloseBrace: close_brace(i); break;
        case Role::Semicolon: out_ += ';'; break;
        case Role::Plain: plain(i); break;
      }
      prev_ = i;
    }
    if (!out_.empty()) out_ += '\n';
    return std::move(out_);
  }

 private:
  /// Newlines in the source between the previous written token and token `i`.
  int newlines_before(size_t i) const {
    if (!prev_) return 0;
    int n = 0;
    for (uint32_t p = l_.tokens[*prev_].end; p < l_.tokens[i].begin; ++p) n += l_.src[p] == '\n';
    return n;
  }

  void new_line(int level, bool blank) {
    if (!out_.empty()) {
      out_ += '\n';
      if (blank) out_ += '\n';
    }
    out_.append(static_cast<size_t>(level * kIndent), ' ');
    break_next_ = false;
  }

  void word(size_t i) { out_ += text_of(l_, l_.tokens[i]); }

  void comment(size_t i) {
    if (prev_ && newlines_before(i) == 0) {
      out_ += ' ';  // a trailing comment, after one space
      word(i);
      break_next_ = true;
      return;
    }
    int level = own_line_level(i);
    bool blank;
    if (level == 0 && top_last_ == Top::Declaration) blank = true;  // one blank line after a declaration
    else blank = !after_open_ && newlines_before(i) >= 2;
    new_line(level, blank);
    word(i);
    if (level == 0) top_last_ = Top::Comment;
    after_open_ = false;
    break_next_ = true;
  }

  /// An own-line comment is indented as the statement (or `}`) that follows it; inside a
  /// statement, as its continuation lines.
  int own_line_level(size_t i) const {
    size_t next = next_code(l_, i);
    if (next == l_.tokens.size()) return 0;
    const Token& n = l_.tokens[next];
    if (n.role == Role::StmtStart) return n.level;
    if (n.role == Role::CloseBrace) return n.level + 1;
    return statement_level_ + 1;
  }

  void statement_start(size_t i) {
    const Token& t = l_.tokens[i];
    statement_level_ = t.level;
    if (one_line_) {
      out_ += ' ';
      word(i);
      return;
    }
    bool blank;
    if (t.level == 0) blank = top_last_ == Top::Declaration || (top_last_ == Top::Comment && newlines_before(i) >= 2);
    else blank = !after_open_ && newlines_before(i) >= 2;
    new_line(t.level, blank);
    word(i);
    if (t.level == 0) top_last_ = Top::Declaration;
    after_open_ = false;
  }

  void open_brace(size_t i) {
    const Token& t = l_.tokens[i];
    const BlockInfo& b = l_.blocks[static_cast<size_t>(t.block)];
    if (break_next_) new_line(statement_level_ + 1, false);
    else out_ += ' ';
    word(i);
    one_line_ = b.one_line;
    after_open_ = true;
  }

  void close_brace(size_t i) {
    const Token& t = l_.tokens[i];
    const BlockInfo& b = l_.blocks[static_cast<size_t>(t.block)];
    if (b.close == b.open + 1) {
      // `{}`: the block holds nothing, not even a comment
    } else if (b.one_line) {
      out_ += ' ';
    } else {
      new_line(t.level, false);
    }
    word(i);
    one_line_ = false;
    after_open_ = false;
    statement_level_ = t.level;
  }

  void plain(size_t i) {
    if (break_next_) {
      new_line(statement_level_ + 1, false);
    } else if (prev_ && space_between(l_.tokens[*prev_], l_.tokens[i])) {
      out_ += ' ';
    }
    word(i);
    after_open_ = false;
  }

  enum class Top { Nothing, Declaration, Comment };

  const Layout& l_;
  std::string out_;
  std::optional<size_t> prev_;   // the last token written
  bool break_next_ = false;      // a comment ended the line: the next token starts a new one
  bool one_line_ = false;        // inside a one-line nested block
  bool after_open_ = false;      // nothing but trailing comments since a `{`
  int statement_level_ = 0;      // block level of the statement being written
  Top top_last_ = Top::Nothing;  // what the last top-level item was
};

/// The first syntax error of `text`, as `path:line:col: message`, with what to do.
Status syntax_error(std::string_view text, std::string_view path) {
  SourceFiles files;
  FileId id = files.add(std::string(path), std::string(text));
  Diagnostics diags;
  parse_rules(files, id, diags);
  diags.sort();
  for (const Diagnostic& d : diags.items()) {
    if (d.severity != Severity::Error) continue;
    LineCol lc = files.line_col(id, d.span.begin);
    return Status::Error(fmt::format("{}:{}:{}: {}; {}", path, lc.line, lc.col, d.message, kFixFirst));
  }
  return Status::Error(fmt::format("{}: cannot parse the file; {}", path, kFixFirst));
}

struct Parsed {
  std::unique_ptr<TSTree, TreeDeleter> tree;
  bool ok = false;
};

Parsed parse(std::string_view text) {
  Parsed p;
  if (text.size() > UINT32_MAX || first_too_deep(text)) return p;
  std::unique_ptr<TSParser, ParserDeleter> parser(ts_parser_new());
  ts_parser_set_language(parser.get(), tree_sitter_dbuild());
  p.tree.reset(ts_parser_parse_string(parser.get(), nullptr, text.data(), static_cast<uint32_t>(text.size())));
  p.ok = p.tree && !ts_node_has_error(ts_tree_root_node(p.tree.get()));
  return p;
}

}  // namespace

Result<std::string> format_rules(std::string_view text, std::string_view path_for_messages) {
  Parsed parsed = parse(text);
  if (!parsed.ok) return syntax_error(text, path_for_messages);
  Layout layout = collect_tokens(text, ts_tree_root_node(parsed.tree.get()));
  mark_dropped_tokens(layout);
  choose_one_line_blocks(layout);
  // No second parse of the result to check it: parsing is most of the time spent, and the
  // tests prove on every example, stdlib file and corpus entry that the AST is unchanged.
  return Writer(layout).run();
}

}  // namespace dbuild
