#include "model/template_text.h"

#include <cctype>

#include <fmt/format.h>

#include "syntax/nesting.h"

namespace dbuild {

Span TextOrigin::at(uint32_t offset, uint32_t length) const {
  if (!exact) return Span{file, begin, begin + 1};
  return Span{file, begin + offset, begin + offset + length};
}

namespace {

/// Recursive descent over a template expression: sum := term (('+'|'-') term)*;
/// term := NAME | NAME '(' args ')' | NUMBER | STRING | '(' sum ')' | '-' term.
/// At most kMaxNesting levels and kMaxExprDepth terms: that bounds the recursion (one level
/// per nested term) and the depth of the tree, which later stages walk recursively too.
class ExprParser {
 public:
  ExprParser(std::string_view src, const TextOrigin& origin, uint32_t base, Diagnostics& diags)
      : src_(src), origin_(origin), base_(base), diags_(diags) {}

  std::optional<ast::Expr> parse() {
    auto e = sum();
    skip_space();
    if (e && pos_ < src_.size()) return fail(fmt::format("unexpected `{}` in template", src_.substr(pos_, 1)));
    return e;
  }

 private:
  std::optional<ast::Expr> fail(std::string message) {
    if (!failed_)
      diags_.error(origin_.at(base_ + static_cast<uint32_t>(pos_), 1), std::move(message),
                   "templates hold a key, a variable, or an expression like `day - 1` or `month(day)`");
    failed_ = true;
    return std::nullopt;
  }
  void skip_space() {
    while (pos_ < src_.size() && std::isspace(static_cast<unsigned char>(src_[pos_]))) ++pos_;
  }
  Span span_from(size_t start) const {
    return origin_.at(base_ + static_cast<uint32_t>(start), static_cast<uint32_t>(pos_ - start));
  }

  std::optional<ast::Expr> sum() {
    auto left = term();
    if (!left) return std::nullopt;
    for (;;) {
      skip_space();
      if (pos_ >= src_.size() || (src_[pos_] != '+' && src_[pos_] != '-')) return left;
      size_t start = pos_;
      char op = src_[pos_++];
      auto right = term();
      if (!right) return std::nullopt;
      ast::Expr b;
      b.kind = ast::Expr::Kind::Binary;
      b.text = std::string(1, op);
      b.span = left->span;
      b.span.end = right->span.end;
      (void)start;
      b.children = {std::move(*left), std::move(*right)};
      left = std::move(b);
    }
  }

  std::optional<ast::Expr> term() {
    // Every level of nesting (parentheses, unary minus, call arguments) passes here.
    struct Level {
      int& depth;
      explicit Level(int& d) : depth(d) { ++depth; }
      ~Level() { --depth; }
    } level(depth_);
    skip_space();
    if (depth_ > kMaxNesting)
      return fail(fmt::format("template nested too deeply (more than {} levels)", kMaxNesting));
    if (++terms_ > kMaxExprDepth)
      return fail(fmt::format("template too long (more than {} terms)", kMaxExprDepth));
    if (pos_ >= src_.size()) return fail("empty template: expected a name or a value");
    size_t start = pos_;
    char c = src_[pos_];
    ast::Expr e;
    if (c == '-') {
      ++pos_;
      auto operand = term();
      if (!operand) return std::nullopt;
      e.kind = ast::Expr::Kind::Unary;
      e.text = "-";
      e.children.push_back(std::move(*operand));
    } else if (c == '(') {
      ++pos_;
      auto inner = sum();
      skip_space();
      if (!inner) return std::nullopt;
      if (pos_ >= src_.size() || src_[pos_] != ')') return fail("expected `)` in template");
      ++pos_;
      return inner;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '.')) ++pos_;
      e.kind = ast::Expr::Kind::Number;
      e.text = std::string(src_.substr(start, pos_ - start));
    } else if (c == '"' || c == '\'') {
      size_t end = src_.find(c, pos_ + 1);
      if (end == std::string_view::npos) return fail("unterminated string in template");
      e.kind = ast::Expr::Kind::String;
      e.text = std::string(src_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) ++pos_;
      e.kind = ast::Expr::Kind::Identifier;
      e.text = std::string(src_.substr(start, pos_ - start));
      size_t name_end = pos_;
      skip_space();
      if (pos_ < src_.size() && src_[pos_] == '(') {
        if (!call_args(e)) return std::nullopt;
      } else {
        pos_ = name_end;
      }
    } else {
      return fail(fmt::format("unexpected `{}` in template", c));
    }
    e.span = span_from(start);
    return e;
  }

  bool call_args(ast::Expr& e) {
    e.kind = ast::Expr::Kind::Call;
    ++pos_;  // (
    skip_space();
    if (pos_ < src_.size() && src_[pos_] == ')') {
      ++pos_;
      return true;
    }
    for (;;) {
      auto arg = sum();
      if (!arg) return false;
      e.children.push_back(std::move(*arg));
      skip_space();
      if (pos_ < src_.size() && src_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < src_.size() && src_[pos_] == ')') {
        ++pos_;
        return true;
      }
      fail("expected `,` or `)` in template");
      return false;
    }
  }

  std::string_view src_;
  const TextOrigin& origin_;
  uint32_t base_;
  Diagnostics& diags_;
  size_t pos_ = 0;
  int depth_ = 0;  // levels of term() on the stack
  int terms_ = 0;  // term() calls so far: bounds the size, hence the depth, of the tree
  bool failed_ = false;
};

}  // namespace

std::optional<ast::Expr> parse_template_expr(std::string_view source, const TextOrigin& origin,
                                             uint32_t offset, Diagnostics& diags) {
  return ExprParser(source, origin, offset, diags).parse();
}

std::vector<TemplatePart> split_templates(std::string_view text, const TextOrigin& origin,
                                          Diagnostics& diags) {
  std::vector<TemplatePart> parts;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      parts.push_back({false, std::string(text.substr(pos)), {}});
      break;
    }
    if (open > pos) parts.push_back({false, std::string(text.substr(pos, open - pos)), {}});
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      diags.error(origin.at(static_cast<uint32_t>(open), 2), "unterminated template: `{{` without `}}`",
                  "close it with `}}`, as in `{{ day }}`");
      break;
    }
    std::string_view inner = text.substr(open + 2, close - open - 2);
    TemplatePart part{true, std::string(inner), {}};
    if (auto e = parse_template_expr(inner, origin, static_cast<uint32_t>(open + 2), diags)) {
      part.expr = std::move(*e);
      parts.push_back(std::move(part));
    }
    pos = close + 2;
  }
  return parts;
}

}  // namespace dbuild
