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
const TSLanguage* tree_sitter_dbuild(void);
}

namespace dbuild {

/// REQUIRES: `file` was added to `files`.
ast::File parse_rules(const SourceFiles& files, FileId file, Diagnostics& diags);

}  // namespace dbuild
