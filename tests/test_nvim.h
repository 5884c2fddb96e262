#pragma once
/// Drives a real Neovim headless from tests: the editor set-up of docs/editors.md, checked in
/// the editor itself rather than only against tree-sitter's library.
///
/// run_nvim() starts `nvim --headless` in a TempDir with a given init.lua, runs a Lua script
/// after the file is loaded, and returns what the script reported. The script runs inside a
/// prelude that gives it `emit(...)` (one line of the report per call, arguments joined by
/// spaces) and `nvim_version(minor)` (true from Neovim 0.<minor> on). When the script returns,
/// the report is written and Neovim quits with code 0; when it raises an error, the error and
/// its traceback become the last report line (`error: ...`) and Neovim quits with code 3.
/// Neovim is killed after 20 s (`timeout_seconds`), so a script waiting forever fails the
/// test instead of hanging it. Nothing is read from the user's configuration: the XDG directories point into
/// the TempDir, plugins are off, and there is no swap or shada file.
///
/// The set-up snippets (nvim_dbuild_init_lua, nvim_lsp_client_lua) use only what Neovim ships,
/// no plugin, on 0.7 (Debian bookworm) and on later versions; docs/editors.md shows the same
/// code, so a user's set-up is the one the tests run.
#include <string>

#include "test_util.h"

namespace dbuild::testing {

/// Whether `nvim` is on PATH (scripts/dev installs Debian's neovim for the tests).
bool nvim_available();

/// Runs `nvim --headless -u DIR/init.lua` on `file` (relative to the directory; none when
/// empty) and then `script_lua` as described above. exit_code is Neovim's (3: the script
/// raised an error; 124 or 137: killed by the timeout); output is the report, followed by a
/// line `nvim printed:` and Neovim's own output when it printed anything (an error in
/// init.lua, a warning of the tree-sitter modules).
RunResult run_nvim(TempDir& dir, const std::string& init_lua, const std::string& script_lua,
                   const std::string& file = "", int timeout_seconds = 20);

/// `text` as a Lua string literal.
std::string lua_string(const std::string& text);

/// Compiles the committed parser (grammar/src/parser.c) into a shared library at `so_path`,
/// with `cc -shared -fPIC -O1`, exporting it as language `language` (its symbol becomes
/// tree_sitter_<language>; "dbuild" for the real one). Returns the compiler's output on
/// failure, "" on success.
std::string build_parser_library(const std::string& so_path, const std::string& language = "dbuild");

/// Lua for init.lua that makes `*.dbuild` files use the dbuild parser and queries without
/// nvim-treesitter: registers the filetype (`vim.g.do_filetype_lua = 1` is what makes
/// `vim.filetype.add` work on 0.7), loads the parser from `parser_so` (require_language on
/// 0.7 and 0.8, language.add from 0.9 on), puts `runtime_dir` on the runtimepath (it must
/// hold queries/dbuild/*.scm), and starts tree-sitter highlighting in every dbuild buffer
/// (`highlighter.new` on 0.7, `vim.treesitter.start` from 0.8 on). Each choice is made by
/// whether the function exists, not by version number.
std::string nvim_dbuild_init_lua(const std::string& parser_so, const std::string& runtime_dir);

/// Lua for init.lua that attaches `dbuild lsp` (run as `dbuild_binary lsp`) to every dbuild
/// buffer through Neovim's built-in client: one client per workspace, whose root is the
/// nearest directory above the file holding workspace.dbuild (buffers outside a workspace
/// get no client). Uses `vim.lsp.start_client` + `buf_attach_client` on 0.7 and
/// `vim.lsp.start` from 0.8 on. Needs the dbuild filetype (nvim_dbuild_init_lua).
std::string nvim_lsp_client_lua(const std::string& dbuild_binary);

}  // namespace dbuild::testing
