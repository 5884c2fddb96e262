#include "lsp/document.h"

#include <doctest/doctest.h>
#include <tree_sitter/api.h>

#include "base/source_files.h"
#include "syntax/rules_parser.h"

namespace dbuild::lsp {
namespace {

/// The AST and diagnostics of the document's current tree, as the server builds them.
std::string declarations_of(const Document& doc, size_t* errors) {
  SourceFiles files;
  FileId id = files.add("x.dbuild", doc.text());
  Diagnostics diags;
  ast::File f = build_rules_ast(files, id, doc.tree(), diags);
  *errors = diags.size();
  std::string names;
  for (const auto& d : f.declarations) names += d.name + " ";
  return names;
}

/// The s-expression of a from-scratch parse of `text`, to compare with the incremental tree.
std::string fresh_sexp(const std::string& text) {
  Document fresh(text, 0);
  char* s = ts_node_string(ts_tree_root_node(fresh.tree()));
  std::string out(s);
  free(s);
  return out;
}

std::string sexp(const Document& doc) {
  char* s = ts_node_string(ts_tree_root_node(doc.tree()));
  std::string out(s);
  free(s);
  return out;
}

}  // namespace

TEST_CASE("lsp: document edits with UTF-16 ranges reparse incrementally") {
  Document doc("# é中文😀\ntable a {\n  sql \"\"\"SELECT 1\"\"\"\n}\n", 1);
  size_t errors = 0;
  CHECK(declarations_of(doc, &errors) == "a ");
  CHECK(errors == 0);
  // Rename `a` to `ab`: line 1, character 7 (after "table a").
  doc.apply_change(Range{{1, 7}, {1, 7}}, "b");
  // Replace the emoji (2 UTF-16 units after "# é中文", at character 5 of line 0) by "x".
  doc.apply_change(Range{{0, 5}, {0, 7}}, "x");
  doc.parse();
  CHECK(doc.incremental_parses() == 1);
  CHECK(doc.text() == "# é中文x\ntable ab {\n  sql \"\"\"SELECT 1\"\"\"\n}\n");
  CHECK(declarations_of(doc, &errors) == "ab ");
  CHECK(sexp(doc) == fresh_sexp(doc.text()));
  // Break it: delete the closing brace; the incremental tree reports it like a fresh parse.
  doc.apply_change(Range{{3, 0}, {3, 1}}, "");
  doc.parse();
  declarations_of(doc, &errors);
  CHECK(errors > 0);
  CHECK(sexp(doc) == fresh_sexp(doc.text()));
}

TEST_CASE("lsp: document edits past the end and full replacements do not crash") {
  Document doc("table a {}\n", 1);
  doc.apply_change(Range{{40, 3}, {99, 0}}, "table b {}\n");
  doc.apply_change(Range{{0, 50}, {0, 2}}, "");  // end before start: nothing removed
  doc.parse();
  CHECK(doc.text() == "table a {}\ntable b {}\n");
  doc.apply_change(std::nullopt, "var x = 1\n");
  doc.parse();
  size_t errors = 0;
  CHECK(declarations_of(doc, &errors) == "x ");
}

}  // namespace dbuild::lsp
