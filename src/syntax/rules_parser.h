#pragma once
/// Parses one rule file with the tree-sitter grammar into the typed AST.
/// Every ERROR and MISSING node becomes a diagnostic; the AST is still built from
/// everything that did parse, so later stages and the editor see as much as possible.
/// Thread-safe: each call uses its own TSParser.
#include "base/diagnostic.h"
#include "base/source_files.h"
#include "syntax/ast.h"

extern "C" {
struct TSLanguage;
struct TSTree;
const TSLanguage* tree_sitter_dbuild(void);
}

namespace dbuild {

/// REQUIRES: `file` was added to `files`.
ast::File parse_rules(const SourceFiles& files, FileId file, Diagnostics& diags);

/// Builds the AST from a tree the caller already parsed from exactly `files.text(file)`, with
/// the same diagnostics as parse_rules(): the language server keeps one tree per open document
/// and reparses it incrementally, so it does not parse the text a second time. The tree is only
/// read. REQUIRES: `tree` was parsed with tree_sitter_dbuild() from that text.
ast::File build_rules_ast(const SourceFiles& files, FileId file, const TSTree* tree, Diagnostics& diags);

}  // namespace dbuild
