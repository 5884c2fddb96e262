#pragma once
/// Finds a workspace and reads its rule files.
///
/// A workspace is the directory holding `workspace.dbuild` (the root marker, itself a rule
/// file). Every `*.dbuild` file below the root is part of it, except under hidden
/// directories (`.dbuild/`, `.git/`...) and under subdirectories that hold their own
/// `workspace.dbuild` (nested workspaces). `import "std/NAME"` reads NAME.dbuild from the
/// standard library; any other import path is relative to the importing file.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/diagnostic.h"
#include "base/source_files.h"
#include "base/status.h"
#include "syntax/ast.h"

namespace dbuild {

inline constexpr const char* kWorkspaceFile = "workspace.dbuild";

/// The parsed files of a workspace. `files` owns every text the diagnostics point into.
struct Workspace {
  std::string root;                // absolute, no trailing slash
  SourceFiles files;
  std::vector<ast::File> asts;     // workspace files first (sorted by path), then imports
  std::vector<bool> imported;      // per ast: came from an import outside the tree
};

/// Walks up from `start` to the nearest directory holding workspace.dbuild.
Result<std::string> find_workspace_root(const std::string& start);

/// The standard library directory: $DBUILD_STDLIB, else <exe>/../share/dbuild/rules,
/// else the source tree's rules/ folder.
std::string stdlib_dir();

/// How load_workspace() reads files.
struct WorkspaceLoadOptions {
  /// Texts that replace what is on disk, by absolute, lexically normal path: an editor's
  /// unsaved buffer, or standard input for `check --stdin-path`. A `*.dbuild` path inside the
  /// workspace (not under a hidden directory or a nested workspace) is part of it even when
  /// no such file exists yet; an import of an overridden path reads the override. Only rule
  /// files are overridden (not `sql file` texts).
  std::map<std::string, std::string> overrides;
  /// When set, builds the AST of each rule file instead of parse_rules() (same contract:
  /// `abs_path` is the file's absolute path, its text is files.text(id)); the language server
  /// passes ASTs from its incremental trees and from earlier loads.
  std::function<ast::File(const std::string& abs_path, const SourceFiles& files, FileId id,
                          Diagnostics& diags)>
      parse;
};

/// Reads and parses every rule file of the workspace at `root` and everything it imports.
/// Syntax errors and unreadable imports go to `diags`.
void load_workspace(const std::string& root, Workspace& ws, Diagnostics& diags,
                    const WorkspaceLoadOptions& options = {});

/// Reads a whole file. Fails with a message naming the path and the OS error.
Result<std::string> read_file(const std::string& path);

/// `path` relative to the current directory when it is below it, else as given.
std::string display_path(const std::string& path);

}  // namespace dbuild
