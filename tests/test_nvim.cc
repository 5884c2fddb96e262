#include "test_nvim.h"

#include <filesystem>

namespace dbuild::testing {

namespace {

/// Runs before the test's script: the report, and the wrapper that writes it and quits.
/// `%RESULT%` is replaced with the report's path.
const char* const kPrelude = R"lua(
local __report = {}
function emit(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
  __report[#__report + 1] = table.concat(parts, " ")
end
function nvim_version(minor)
  return vim.fn.has("nvim-0." .. minor) == 1
end
local function __finish(code)
  vim.fn.writefile(__report, %RESULT%)
  if code == 0 then vim.cmd("qa!") else vim.cmd("cquit " .. code) end
end
local ok, err = xpcall(function()
)lua";

const char* const kEpilogue = R"lua(
end, debug.traceback)
if not ok then emit("error: " .. tostring(err)) end
__finish(ok and 0 or 3)
)lua";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

/// Environment that keeps Neovim away from the user's files: every XDG directory in `dir`.
std::string isolated_env(const TempDir& dir) {
  std::string env;
  for (const char* name : {"CONFIG", "DATA", "STATE", "CACHE"}) {
    env += std::string("XDG_") + name + "_HOME=" + dir.path() + "/xdg/" + name + " ";
  }
  return env;
}

}  // namespace

bool nvim_available() { return run_command("command -v nvim >/dev/null 2>&1").exit_code == 0; }

std::string lua_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

RunResult run_nvim(TempDir& dir, const std::string& init_lua, const std::string& script_lua,
                   const std::string& file, int timeout_seconds) {
  const std::string report_path = dir / "nvim-report.txt";
  std::filesystem::remove(report_path);
  const std::string init_path = dir.write("init.lua", init_lua);
  const std::string script_path = dir.write(
      "script.lua", replace_all(kPrelude, "%RESULT%", lua_string(report_path)) + script_lua + kEpilogue);
  // `timeout` sends TERM after timeout_seconds and KILL 2 s later; stdin is closed so Neovim
  // never waits for a terminal.
  const std::string command = "cd " + dir.path() + " && " + isolated_env(dir) +
                              "timeout -k 2 " + std::to_string(timeout_seconds) + " nvim --headless --noplugin -n -i NONE -u " +
                              init_path + " -c 'luafile " + script_path + "' " + file +
                              " </dev/null";
  RunResult nvim = run_command(command);
  RunResult result{.exit_code = nvim.exit_code, .output = slurp(report_path)};
  if (!nvim.output.empty()) result.output += "nvim printed:\n" + nvim.output;
  return result;
}

std::string build_parser_library(const std::string& so_path, const std::string& language) {
  const std::string src = source_dir() + "/grammar/src";
  std::string rename;
  if (language != "dbuild") rename = " -Dtree_sitter_dbuild=tree_sitter_" + language;
  RunResult cc = run_command("cc -shared -fPIC -O1" + rename + " -I " + src + " " + src +
                             "/parser.c -o " + so_path);
  return cc.exit_code == 0 ? "" : "cc failed (" + std::to_string(cc.exit_code) + "): " + cc.output;
}

std::string nvim_dbuild_init_lua(const std::string& parser_so, const std::string& runtime_dir) {
  return R"lua(
-- The filetype: vim.filetype.add is ignored on 0.7 unless do_filetype_lua is set.
vim.g.do_filetype_lua = 1
vim.filetype.add({ extension = { dbuild = "dbuild" } })
-- The queries: queries/dbuild/*.scm under a runtimepath directory.
vim.opt.runtimepath:append()lua" +
         lua_string(runtime_dir) + R"lua()
-- The parser: language.add from 0.9 on, require_language before.
if vim.treesitter.language.add then
  vim.treesitter.language.add("dbuild", { path = )lua" +
         lua_string(parser_so) + R"lua( })
else
  vim.treesitter.require_language("dbuild", )lua" +
         lua_string(parser_so) + R"lua()
end
-- Highlighting: vim.treesitter.start from 0.8 on, the highlighter object before.
vim.api.nvim_create_autocmd("FileType", {
  pattern = "dbuild",
  callback = function(args)
    if vim.treesitter.start then
      vim.treesitter.start(args.buf, "dbuild")
    else
      vim.treesitter.highlighter.new(vim.treesitter.get_parser(args.buf, "dbuild"))
    end
  end,
})
)lua";
}

std::string nvim_lsp_client_lua(const std::string& dbuild_binary) {
  return R"lua(
-- `dbuild lsp` for dbuild buffers inside a workspace (the directory holding workspace.dbuild).
local dbuild_clients = {}  -- workspace root -> client id (0.7 only)
vim.api.nvim_create_autocmd("FileType", {
  pattern = "dbuild",
  callback = function(args)
    local file = vim.api.nvim_buf_get_name(args.buf)
    local marker = vim.fn.findfile("workspace.dbuild", vim.fn.fnamemodify(file, ":p:h") .. ";")
    if marker == "" then return end
    local root = vim.fn.fnamemodify(marker, ":p:h")
    local config = { name = "dbuild", cmd = { )lua" +
         lua_string(dbuild_binary) + R"lua(, "lsp" }, root_dir = root }
    if vim.lsp.start then
      vim.lsp.start(config, { bufnr = args.buf })  -- reuses the client of the same root
    else
      dbuild_clients[root] = dbuild_clients[root] or vim.lsp.start_client(config)
      vim.lsp.buf_attach_client(args.buf, dbuild_clients[root])
    end
  end,
})
)lua";
}

}  // namespace dbuild::testing
