#include "model/template_text.h"

#include <doctest/doctest.h>

#include <string>

namespace dbuild {
namespace {

/// Splits `text` as the SQL of a rule file and returns the parts and the rendered diagnostics.
struct Split {
  std::vector<TemplatePart> parts;
  std::string diagnostics;
};

Split split(const std::string& text) {
  SourceFiles files;
  FileId id = files.add("t.sql", text);
  Diagnostics diags;
  Split out;
  out.parts = split_templates(files.text(id), TextOrigin{id, 0, true}, diags);
  out.diagnostics = render(diags, files);
  return out;
}

TEST_CASE("templates split into literal text and parsed expressions") {
  Split s = split("SELECT * FROM t WHERE d = {{ day - 1 }} AND m = {{month(day)}}");
  REQUIRE(s.parts.size() == 4);
  CHECK(s.diagnostics.empty());
  CHECK(s.parts[0].text == "SELECT * FROM t WHERE d = ");
  CHECK(s.parts[1].is_template);
  CHECK(s.parts[1].expr.kind == ast::Expr::Kind::Binary);
  CHECK(s.parts[3].expr.kind == ast::Expr::Kind::Call);
  CHECK(s.parts[3].expr.children.size() == 1);
}

TEST_CASE("a malformed template is reported at its place") {
  Split s = split("SELECT {{ day - }}");
  CHECK(s.diagnostics.find("t.sql:1:") == 0);
  CHECK(s.diagnostics.find("empty template") != std::string::npos);
}

TEST_CASE("regression: deeply nested templates fail with a message instead of overflowing the stack") {
  // Each nested term used to take one more level of recursion, and the expression tree
  // (destroyed and evaluated recursively) one more level of depth.
  for (const std::string& inner : {std::string(100000, '('), std::string(100000, '-'),
                                   "day" + std::string(100000, '-') + "1"}) {
    Split s = split("{{ " + inner + " }}");
    CHECK(s.parts.empty());
    bool limited = s.diagnostics.find("template too long") != std::string::npos ||
                   s.diagnostics.find("template nested too deeply") != std::string::npos;
    CHECK_MESSAGE(limited, s.diagnostics);
  }
  std::string sum = "day";
  for (int i = 0; i < 100000; ++i) sum += " + 1";
  Split s = split("{{ " + sum + " }}");
  CHECK(s.diagnostics.find("template too long (more than 200 terms)") != std::string::npos);
  CHECK(split("{{ " + std::string(90, '(') + "day" + std::string(90, ')') + " }}").diagnostics.empty());
}

}  // namespace
}  // namespace dbuild
