#include "syntax/rules_parser.h"

#include <cstring>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <tree_sitter/api.h>

#include "syntax/nesting.h"

namespace dbuild {
namespace {

using ast::Expr;

/// Walks a tree-sitter tree of one file and builds AST nodes, reporting syntax errors.
class Builder {
 public:
  Builder(const SourceFiles& files, FileId file, Diagnostics& diags)
      : files_(files), file_(file), src_(files.text(file)), diags_(diags) {}

  ast::File build(TSNode root) {
    report_errors(root);
    ast::File out;
    out.file = file_;
    for (TSNode child : named_children(root)) {
      if (auto decl = declaration(child)) out.declarations.push_back(std::move(*decl));
    }
    return out;
  }

 private:
  // ---- helpers over the concrete tree ----
  static std::vector<TSNode> named_children(TSNode node) {
    std::vector<TSNode> out;
    uint32_t n = ts_node_named_child_count(node);
    out.reserve(n);
    for (uint32_t i = 0; i < n; ++i) out.push_back(ts_node_named_child(node, i));
    return out;
  }
  static bool is(TSNode node, const char* type) {
    return !ts_node_is_null(node) && std::strcmp(ts_node_type(node), type) == 0;
  }
  static TSNode field(TSNode node, const char* name) {
    return ts_node_child_by_field_name(node, name, static_cast<uint32_t>(std::strlen(name)));
  }
  Span span(TSNode node) const {
    return Span{file_, ts_node_start_byte(node), ts_node_end_byte(node)};
  }
  std::string_view text(TSNode node) const {
    uint32_t b = ts_node_start_byte(node), e = ts_node_end_byte(node);
    return src_.substr(b, e - b);
  }
  std::string name(TSNode node) const {
    return ts_node_is_null(node) || ts_node_is_missing(node) ? std::string() : std::string(text(node));
  }

  // ---- syntax errors ----
  /// Reports every ERROR and MISSING node, outermost first. Iterative: the tree may be deep.
  void report_errors(TSNode root) {
    std::vector<TSNode> stack = {root};
    while (!stack.empty()) {
      TSNode node = stack.back();
      stack.pop_back();
      if (!ts_node_has_error(node)) continue;
      if (ts_node_is_missing(node)) {
        report_missing(node);
        continue;
      }
      if (is(node, "ERROR")) {
        report_error_node(node);
        continue;
      }
      for (uint32_t i = ts_node_child_count(node); i-- > 0;) stack.push_back(ts_node_child(node, i));
    }
  }

  void report_missing(TSNode node) {
    const char* type = ts_node_type(node);
    std::string what = ts_node_is_named(node) ? std::string(type) : fmt::format("`{}`", type);
    Span s = span(node);
    s.end = s.begin;
    diags_.error(s, fmt::format("syntax error: missing {}", what), missing_hint(type));
  }

  void report_error_node(TSNode node) {
    if (auto usage = clause_usage(node)) {
      diags_.error(span(node), fmt::format("syntax error: malformed `{}` {}", usage->keyword, usage->what),
                   usage->hint);
    } else {
      diags_.error(span(node), fmt::format("syntax error: unexpected {}", describe_error(node)),
                   error_hint(node));
    }
  }

  std::string describe_error(TSNode node) const {
    // Name the first token that could not be parsed.
    TSNode first = node;
    while (ts_node_child_count(first) > 0) first = ts_node_child(first, 0);
    std::string_view t = text(first);
    if (t.empty()) return "end of file";
    size_t nl = t.find('\n');
    if (nl != std::string_view::npos) t = t.substr(0, nl);
    if (t.size() > 40) return fmt::format("`{}...`", t.substr(0, 40));
    return fmt::format("`{}`", t);
  }

  /// How a clause or declaration is written, for errors that start with its keyword.
  struct Usage {
    const char* keyword;
    const char* what;
    const char* hint;
  };
  std::optional<Usage> clause_usage(TSNode error) const {
    static const Usage kUsages[] = {
        {"partition", "clause", "write `partition day: date` (key types: date, month, hour, int, string)"},
        {"input", "clause", "write `input name` or `input name[mapping]`, as in input raw_logs[month(day)]"},
        {"sql", "clause", "write sql \"\"\"SELECT ...\"\"\" or sql file \"query.sql\""},
        {"command", "clause", "write command \"\"\"...\"\"\" or command file \"script.sh\""},
        {"output", "clause", "write output \"out/{day}.csv\""},
        {"check", "clause", "write check not_null(col), check row_count > 0, or check \"label\" sql \"...\""},
        {"test", "block", "write test \"name\" { given table \"\"\"rows\"\"\"  expect \"\"\"rows\"\"\" }"},
        {"import", "declaration", "write import \"std/name\" or import \"path/file.dbuild\""},
        {"var", "declaration", "write var name = value, or var name (then pass --var name=VALUE)"},
        {"table", "declaration", "write table name { ... }"},
        {"source", "declaration", "write source name { path = \"data/{day}.csv\"  format = csv  partition day: date }"},
        {"format", "declaration", "write format name { kind = \"regex\" ... }"},
        {"connection", "declaration", "write connection name { engine = \"postgres\" ... }"},
    };
    TSNode first = error;
    while (ts_node_child_count(first) > 0) first = ts_node_child(first, 0);
    std::string_view t = text(first);
    for (const Usage& u : kUsages)
      if (t == u.keyword) return u;
    return std::nullopt;
  }

  static std::string missing_hint(const char* type) {
    if (std::strcmp(type, "}") == 0) return "every `{` needs a matching `}`";
    if (std::strcmp(type, "\"\"\"") == 0) return "close the multi-line string with `\"\"\"`";
    if (std::strcmp(type, "identifier") == 0) return "a name is needed here";
    return {};
  }

  std::string error_hint(TSNode node) const {
    TSNode parent = ts_node_parent(node);
    if (is(parent, "source_file"))
      return "a rule file holds `import`, `var`, `workspace`, `connection`, `format`, `source` "
             "and `table` declarations";
    if (is(parent, "block"))
      return "a block holds `name = value` attributes, `partition`, `input`, `sql`, `command`, "
             "`output`, `check` and `test` clauses, and nested `name { }` blocks";
    return {};
  }

  // ---- strings ----
  ast::StringLit string_lit(TSNode node) const {
    ast::StringLit s;
    s.span = span(node);
    std::string_view t = text(node);
    TSNode content = ts_node_named_child(node, 0);
    if (ts_node_is_null(content)) {
      size_t quote = t.rfind("\"\"\"", 0) == 0 ? 3 : 1;
      s.content_begin = s.span.begin + static_cast<uint32_t>(std::min(quote, t.size()));
      return s;
    }
    s.content_begin = ts_node_start_byte(content);
    std::string_view raw = text(content);
    if (!t.empty() && t[0] == '"' && t.rfind("\"\"\"", 0) != 0) {
      s.raw = raw.find('\\') == std::string_view::npos;  // no escapes: offsets map one to one
      s.value = unescape(raw);
    } else {
      s.value = std::string(raw);
    }
    return s;
  }

  static std::string unescape(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\' || i + 1 == raw.size()) {
        out += raw[i];
        continue;
      }
      char c = raw[++i];
      switch (c) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '0': out += '\0'; break;
        default: out += c; break;  // \\ \" \' and anything else: the character itself
      }
    }
    return out;
  }

  // ---- expressions ----
  /// Counts the levels of expr() on the stack.
  class DepthGuard {
   public:
    explicit DepthGuard(int& depth) : depth_(depth) { ++depth_; }
    ~DepthGuard() { --depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

   private:
    int& depth_;
  };

  Expr expr(TSNode node) const {
    DepthGuard guard(expr_depth_);
    Expr e;
    e.span = span(node);
    if (expr_depth_ > kMaxExprDepth) {
      if (!too_deep_)
        diags_.error(e.span, fmt::format("expression nested too deeply (more than {} levels)", kMaxExprDepth),
                     "split it up: rule files hold short expressions");
      too_deep_ = true;
      return e;  // an identifier with no name, like an error node
    }
    const char* type = ts_node_type(node);
    if (std::strcmp(type, "identifier") == 0) {
      e.kind = Expr::Kind::Identifier;
      e.text = std::string(text(node));
    } else if (std::strcmp(type, "number") == 0) {
      e.kind = Expr::Kind::Number;
      e.text = std::string(text(node));
    } else if (std::strcmp(type, "string") == 0) {
      e.kind = Expr::Kind::String;
      e.text = string_lit(node).value;
    } else if (std::strcmp(type, "boolean") == 0) {
      e.kind = Expr::Kind::Bool;
      e.text = std::string(text(node));
    } else if (std::strcmp(type, "star") == 0) {
      e.kind = Expr::Kind::Star;
      e.text = "*";
    } else if (std::strcmp(type, "call") == 0) {
      e.kind = Expr::Kind::Call;
      e.text = name(field(node, "function"));
      TSNode args = field(node, "arguments");
      if (!ts_node_is_null(args))
        for (TSNode a : named_children(args)) add_expr(e.children, a);
    } else if (std::strcmp(type, "binary_expression") == 0) {
      e.kind = Expr::Kind::Binary;
      TSNode op = field(node, "operator");
      e.text = ts_node_is_null(op) ? "" : std::string(text(op));
      add_expr(e.children, field(node, "left"));
      add_expr(e.children, field(node, "right"));
    } else if (std::strcmp(type, "unary_expression") == 0) {
      e.kind = Expr::Kind::Unary;
      e.text = "-";
      add_expr(e.children, field(node, "operand"));
    } else if (std::strcmp(type, "range") == 0) {
      e.kind = Expr::Kind::Range;
      e.text = "..";
      add_expr(e.children, field(node, "from"));
      add_expr(e.children, field(node, "to"));
    } else if (std::strcmp(type, "list") == 0) {
      e.kind = Expr::Kind::List;
      for (TSNode a : named_children(node)) add_expr(e.children, a);
    } else if (std::strcmp(type, "parenthesized") == 0) {
      TSNode inner = ts_node_named_child(node, 0);
      if (!ts_node_is_null(inner) && !is(inner, "comment")) return expr(inner);
    } else {
      // ERROR or an unexpected node: an identifier with no name, already reported.
      e.kind = Expr::Kind::Identifier;
    }
    return e;
  }

  void add_expr(std::vector<Expr>& out, TSNode node) const {
    if (ts_node_is_null(node) || is(node, "comment") || is(node, "ERROR")) return;
    out.push_back(expr(node));
  }

  std::optional<Expr> opt_expr(TSNode node) const {
    if (ts_node_is_null(node) || is(node, "ERROR") || ts_node_is_missing(node)) return std::nullopt;
    return expr(node);
  }

  // ---- clauses ----
  ast::Text text_clause(TSNode node) const {
    ast::Text t;
    t.span = span(node);
    TSNode file = field(node, "file");
    TSNode inline_text = field(node, "text");
    if (!ts_node_is_null(file)) {
      t.from_file = true;
      t.literal = string_lit(file);
    } else if (!ts_node_is_null(inline_text)) {
      t.literal = string_lit(inline_text);
    } else {
      t.literal.span = t.span;
    }
    return t;
  }

  ast::Attribute attribute(TSNode node) const {
    ast::Attribute a;
    TSNode n = field(node, "name");
    a.name = name(n);
    a.name_span = ts_node_is_null(n) ? span(node) : span(n);
    if (auto v = opt_expr(field(node, "value"))) a.value = std::move(*v);
    else a.value.span = span(node);
    return a;
  }

  ast::FieldDecl field_decl(TSNode node) const {
    ast::FieldDecl f;
    TSNode n = field(node, "name"), t = field(node, "type"), fmt_node = field(node, "format");
    f.name = name(n);
    f.name_span = span(ts_node_is_null(n) ? node : n);
    f.type = name(t);
    f.type_span = span(ts_node_is_null(t) ? node : t);
    if (!ts_node_is_null(fmt_node)) f.format = string_lit(fmt_node);
    return f;
  }

  ast::InputRef input_ref(TSNode node) const {
    ast::InputRef r;
    TSNode d = field(node, "dataset");
    r.dataset = name(d);
    r.span = span(ts_node_is_null(d) ? node : d);
    TSNode m = field(node, "mapping");
    if (!ts_node_is_null(m)) {
      r.mapping_span = span(m);
      r.mapping.emplace();
      for (TSNode item : named_children(m)) {
        if (!is(item, "mapping_item")) continue;
        ast::MappingItem mi;
        TSNode k = field(item, "key");
        if (!ts_node_is_null(k)) {
          mi.key = name(k);
          mi.key_span = span(k);
        }
        if (auto v = opt_expr(field(item, "value"))) mi.value = std::move(*v);
        else mi.value.span = span(item);
        r.mapping->push_back(std::move(mi));
      }
    }
    return r;
  }

  ast::Check check(TSNode node) const {
    ast::Check c;
    c.span = span(node);
    TSNode label = field(node, "label");
    if (!ts_node_is_null(label)) c.label = string_lit(label);
    TSNode q = field(node, "query");
    if (!ts_node_is_null(q)) c.query = text_clause(q);
    else c.condition = opt_expr(field(node, "condition"));
    return c;
  }

  ast::Test test(TSNode node) const {
    ast::Test t;
    t.span = span(node);
    TSNode n = field(node, "name");
    if (!ts_node_is_null(n)) t.name = string_lit(n);
    TSNode body = field(node, "body");
    if (ts_node_is_null(body)) return t;
    for (TSNode c : named_children(body)) {
      if (is(c, "given_clause")) {
        ast::Given g;
        TSNode d = field(c, "dataset");
        g.dataset = name(d);
        g.dataset_span = span(ts_node_is_null(d) ? c : d);
        g.rows = text_clause(c);
        t.given.push_back(std::move(g));
      } else if (is(c, "expect_clause")) {
        t.expect.push_back(text_clause(c));
      } else if (is(c, "attribute")) {
        t.attributes.push_back(attribute(c));
      }
    }
    return t;
  }

  ast::Block block(TSNode node) const {
    ast::Block b;
    b.span = span(node);
    for (TSNode c : named_children(node)) {
      if (is(c, "attribute")) {
        b.attributes.push_back(attribute(c));
      } else if (is(c, "nested_block")) {
        ast::NestedBlock nb;
        TSNode n = field(c, "name");
        nb.name = name(n);
        nb.name_span = span(ts_node_is_null(n) ? c : n);
        nb.span = span(c);
        TSNode body = field(c, "body");
        if (!ts_node_is_null(body)) {
          ast::Block inner = block(body);
          nb.attributes = std::move(inner.attributes);
          nb.fields = std::move(inner.fields);
        }
        b.nested.push_back(std::move(nb));
      } else if (is(c, "field_declaration")) {
        b.fields.push_back(field_decl(c));
      } else if (is(c, "partition_clause")) {
        b.partition_clauses.push_back(span(c));
        for (TSNode k : named_children(c)) {
          if (!is(k, "partition_key")) continue;
          TSNode n = field(k, "name"), t = field(k, "type");
          b.partition.push_back({name(n), span(ts_node_is_null(n) ? k : n), name(t),
                                 span(ts_node_is_null(t) ? k : t)});
        }
      } else if (is(c, "input_clause")) {
        for (TSNode r : named_children(c))
          if (is(r, "input_ref")) b.inputs.push_back(input_ref(r));
      } else if (is(c, "sql_clause")) {
        b.sql.push_back(text_clause(c));
      } else if (is(c, "command_clause")) {
        b.command.push_back(text_clause(c));
      } else if (is(c, "output_clause")) {
        TSNode p = field(c, "path");
        if (!ts_node_is_null(p)) b.output.push_back(string_lit(p));
      } else if (is(c, "check_clause")) {
        b.checks.push_back(check(c));
      } else if (is(c, "test_block")) {
        b.tests.push_back(test(c));
      }
    }
    return b;
  }

  std::optional<ast::Declaration> declaration(TSNode node) const {
    using Kind = ast::Declaration::Kind;
    ast::Declaration d;
    d.span = span(node);
    too_deep_ = false;
    d.has_syntax_error = ts_node_has_error(node);
    const char* type = ts_node_type(node);
    struct { const char* type; Kind kind; } kinds[] = {
        {"import_declaration", Kind::Import}, {"variable_declaration", Kind::Var},
        {"workspace_block", Kind::Workspace}, {"connection_block", Kind::Connection},
        {"format_block", Kind::Format},       {"source_block", Kind::Source},
        {"table_block", Kind::Table},
    };
    bool known = false;
    for (const auto& k : kinds) {
      if (std::strcmp(type, k.type) == 0) {
        d.kind = k.kind;
        known = true;
      }
    }
    if (!known) return std::nullopt;  // ERROR or comment at top level
    TSNode n = field(node, "name");
    if (!ts_node_is_null(n)) {
      d.name = name(n);
      d.name_span = span(n);
    } else {
      d.name_span = d.span;
    }
    if (d.kind == Kind::Import) {
      TSNode p = field(node, "path");
      if (ts_node_is_null(p)) return std::nullopt;
      d.import_path = string_lit(p);
    } else if (d.kind == Kind::Var) {
      d.value = opt_expr(field(node, "value"));
    } else {
      TSNode body = field(node, "body");
      if (!ts_node_is_null(body)) d.body = block(body);
    }
    if (d.kind != Kind::Import && d.kind != Kind::Workspace && d.name.empty()) return std::nullopt;
    d.has_syntax_error = d.has_syntax_error || too_deep_;
    return d;
  }

  const SourceFiles& files_;
  FileId file_;
  std::string_view src_;
  Diagnostics& diags_;
  mutable int expr_depth_ = 0;     // levels of expr() on the stack
  mutable bool too_deep_ = false;  // the current declaration has a too deep expression
};

struct ParserDeleter {
  void operator()(TSParser* p) const { ts_parser_delete(p); }
};
struct TreeDeleter {
  void operator()(TSTree* t) const { ts_tree_delete(t); }
};

}  // namespace

const char* ast::kind_name(Declaration::Kind kind) {
  switch (kind) {
    case Declaration::Kind::Import: return "import";
    case Declaration::Kind::Var: return "var";
    case Declaration::Kind::Workspace: return "workspace";
    case Declaration::Kind::Connection: return "connection";
    case Declaration::Kind::Format: return "format";
    case Declaration::Kind::Source: return "source";
    case Declaration::Kind::Table: return "table";
  }
  return "?";
}

/// Reports brackets nested deeper than kMaxNesting in `src`; true when it did.
static bool refuse_deep_nesting(std::string_view src, FileId file, Diagnostics& diags) {
  auto at = first_too_deep(src);
  if (!at) return false;
  diags.error(Span{file, *at, *at + 1}, fmt::format("brackets nested too deeply (more than {} levels)", kMaxNesting),
              "rule files need only a few levels of (), [] and {}; the file was not read further");
  return true;
}

ast::File parse_rules(const SourceFiles& files, FileId file, Diagnostics& diags) {
  std::unique_ptr<TSParser, ParserDeleter> parser(ts_parser_new());
  ts_parser_set_language(parser.get(), tree_sitter_dbuild());
  std::string_view src = files.text(file);
  // Brackets nested beyond any real rule file are refused before tree-sitter sees them.
  if (refuse_deep_nesting(src, file, diags)) return ast::File{file, {}};
  std::unique_ptr<TSTree, TreeDeleter> tree(
      ts_parser_parse_string(parser.get(), nullptr, src.data(), static_cast<uint32_t>(src.size())));
  return build_rules_ast(files, file, tree.get(), diags);
}

ast::File build_rules_ast(const SourceFiles& files, FileId file, const TSTree* tree, Diagnostics& diags) {
  // The same limit as parse_rules(): the AST builder's recursion must stay shallow.
  if (refuse_deep_nesting(files.text(file), file, diags)) return ast::File{file, {}};
  if (!tree) {
    diags.error(Span{file, 0, 0}, "could not parse the file");
    return ast::File{file, {}};
  }
  return Builder(files, file, diags).build(ts_tree_root_node(tree));
}

}  // namespace dbuild
