// The editor set-up of docs/editors.md in a real Neovim (Debian's 0.7.2 in CI, any later one
// too): the committed parser compiled into a shared library, grammar/queries on the
// runtimepath, no plugin. Checks what a user sees: the capture names at given places, the SQL
// text handed to an `sql` child tree exactly once, the fold ranges, and no error from any query.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "test_nvim.h"
#include "test_util.h"

namespace dbuild {
namespace {

using testing::lua_string;
using testing::RunResult;
using testing::TempDir;

const std::string kRules = R"(# Daily hits.
var threshold = 400
var MAX_ROWS = 1000000

table daily_logs {
  partition day: date
  input raw_logs[month(day)]
  columns { hits: int }
  sql """
    SELECT count(*) AS hits
    FROM raw_logs
  """
  check row_count < MAX_ROWS
  check "no negative hits" sql "SELECT * FROM daily_logs WHERE hits < 0"
  command "gzip -c {input} > {output}"
  attempts = threshold
}
)";

/// The parser libraries and query directory, built once for every test of this file:
/// `dbuild.so`, the stand-in `sql.so` (the same grammar exported as `sql`, so Neovim has a
/// parser to give injected SQL to: Debian's neovim ships none), and rt/queries/dbuild.
struct NvimRuntime {
  TempDir dir;
  std::string error;  // why the set-up failed, "" when it worked

  NvimRuntime() {
    error = testing::build_parser_library(dir / "dbuild.so");
    if (error.empty()) error = testing::build_parser_library(dir / "sql.so", "sql");
    std::filesystem::create_directories(dir / "rt/queries");
    std::filesystem::create_directory_symlink(testing::source_dir() + "/grammar/queries",
                                              dir / "rt/queries/dbuild");
  }

  /// init.lua: the documented set-up, plus the stand-in SQL parser.
  std::string init_lua() const {
    const std::string sql = lua_string(dir / "sql.so");
    return testing::nvim_dbuild_init_lua(dir / "dbuild.so", dir / "rt") +
           "if vim.treesitter.language.add then vim.treesitter.language.add(\"sql\", { path = " +
           sql + " }) else vim.treesitter.require_language(\"sql\", " + sql + ") end\n";
  }
};

const NvimRuntime& runtime() {
  static const NvimRuntime instance;
  return instance;
}

/// Lua shared by the scripts: the dbuild parser of the buffer, and version-independent
/// access to queries and node text.
const std::string kScriptHelpers = R"lua(
  local ts = vim.treesitter
  local get_query = ts.query.get or ts.get_query
  local node_text = ts.get_node_text or ts.query.get_node_text
  local parser = ts.get_parser(0, "dbuild")
  parser:parse(true)
  local root = parser:trees()[1]:root()
  -- A match maps capture ids to a node, or to a list of nodes from 0.11 on.
  local function first(node) if type(node) == "table" then return node[1] end return node end
)lua";

/// Runs `script` (after kScriptHelpers) on kRules in a fresh directory; checks that Neovim
/// quit normally and printed nothing, and that no Vim error was recorded.
std::string run_on_rules(const std::string& script) {
  const NvimRuntime& rt = runtime();
  REQUIRE_MESSAGE(testing::nvim_available(),
                  "nvim is not on PATH: scripts/dev test installs Debian's neovim");
  REQUIRE_MESSAGE(rt.error.empty(), rt.error);
  TempDir dir;
  dir.write("rules.dbuild", kRules);
  const RunResult r = testing::run_nvim(
      dir, rt.init_lua(),
      kScriptHelpers + script + "\n  emit(\"filetype\", vim.bo.filetype)\n" +
          "  emit(\"errmsg\", vim.v.errmsg)\n",
      "rules.dbuild");
  INFO("report:\n" << r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("nvim printed:") == std::string::npos);
  CHECK(r.output.find("filetype dbuild\n") != std::string::npos);
  CHECK(r.output.find("errmsg \n") != std::string::npos);
  return r.output;
}

/// (row, column), 0-based, of the `occurrence`-th appearance of `text` in kRules.
std::pair<int, int> position_of(const std::string& text, int occurrence = 0) {
  size_t at = kRules.find(text);
  for (int i = 0; i < occurrence && at != std::string::npos; ++i) at = kRules.find(text, at + 1);
  REQUIRE_MESSAGE(at != std::string::npos, "kRules has no `" << text << "`");
  const size_t line_start = kRules.rfind('\n', at);
  const int col = static_cast<int>(line_start == std::string::npos ? at : at - line_start - 1);
  const int row = static_cast<int>(std::count(kRules.begin(), kRules.begin() + at, '\n'));
  return {row, col};
}

/// The report lines starting with `prefix `, without the prefix.
std::vector<std::string> lines_with(const std::string& report, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(report);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(prefix + " ")) out.push_back(line.substr(prefix.size() + 1));
  }
  return out;
}

TEST_CASE("nvim: highlight captures at places in a rule file") {
  // What must be captured where (the text at the place, its occurrence): every dbuild capture
  // covering the place, sorted. One name means no other pattern competes for that node.
  const std::vector<std::tuple<std::string, int, std::string>> expected = {
      {"# Daily hits.", 0, "comment"},
      {"table", 0, "keyword"},
      {"partition", 0, "keyword"},
      {"daily_logs", 0, "type.definition"},  // a table's name, not a variable
      {"day", 0, "parameter"},
      {"date", 0, "type"},                   // a key type
      {"raw_logs", 0, "type"},               // an input dataset
      {"month", 0, "function.builtin"},
      {"day", 1, "variable"},                // in `month(day)`
      {"hits", 1, "property"},               // a column name
      {"int", 0, "type"},
      {"threshold", 0, "variable"},
      {"threshold", 1, "variable"},          // the value of `attempts`
      {"attempts", 0, "property"},
      {"MAX_ROWS", 0, "constant"},
      {"MAX_ROWS", 1, "constant"},
      {"row_count", 0, "variable"},
      {"400", 0, "number"},
      {"<", 0, "operator"},
      {"no negative hits", 0, "string,string.special"},  // a check's label
      {"\"no negative hits\"", 0, "string"},              // its quotes
      {"{", 0, "punctuation.bracket"},
  };
  std::string probes = "local probes = {\n";
  for (const auto& [text, occurrence, names] : expected) {
    const auto [row, col] = position_of(text, occurrence);
    probes += "  { " + lua_string(text + "#" + std::to_string(occurrence)) + ", " +
              std::to_string(row) + ", " + std::to_string(col) + " },\n";
  }
  probes += "}\n";
  // get_captures_at_pos (0.9+) reports what the running highlighter applies; 0.7 and 0.8
  // lack it, so there the highlights query runs over the row and keeps the captured nodes
  // that cover the place.
  const std::string report = run_on_rules(probes + R"lua(
  local query = get_query("dbuild", "highlights")
  for _, probe in ipairs(probes) do
    local label, row, col = probe[1], probe[2], probe[3]
    local names = {}
    if ts.get_captures_at_pos then
      for _, c in ipairs(ts.get_captures_at_pos(0, row, col)) do
        if c.lang == "dbuild" then names[#names + 1] = c.capture end
      end
    else
      for id, node in query:iter_captures(root, 0, row, row + 1) do
        local sr, sc, er, ec = node:range()
        local after_start = row > sr or (row == sr and col >= sc)
        local before_end = row < er or (row == er and col < ec)
        if after_start and before_end then names[#names + 1] = query.captures[id] end
      end
    end
    table.sort(names)
    emit("capture", label, table.concat(names, ","))
  end
)lua");
  std::map<std::string, std::string> actual;
  for (const std::string& line : lines_with(report, "capture")) {
    const size_t space = line.rfind(' ');
    actual[line.substr(0, space)] = line.substr(space + 1);
  }
  for (const auto& [text, occurrence, names] : expected) {
    INFO("`" << text << "` #" << occurrence);
    CHECK(actual[text + "#" + std::to_string(occurrence)] == names);
  }
}

TEST_CASE("nvim: sql text is injected once per sql clause, shell text without a parser is skipped") {
  // The injections query as Neovim runs it (both conventions on one node), then the child
  // trees the parser made from it: with a parser named sql, one region per sql clause (two
  // would mean both conventions were read); bash has no parser and must be skipped silently.
  const std::string report = run_on_rules(R"lua(
  local query = get_query("dbuild", "injections")
  for _, match, metadata in query:iter_matches(root, 0) do
    local names, text = {}, nil
    for id, node in pairs(match) do
      names[#names + 1] = query.captures[id]
      text = node_text(first(node), 0)
    end
    table.sort(names)
    emit("match", table.concat(names, ","), metadata["injection.language"], metadata.language,
         (text:gsub("%s+", " ")))
  end
  local children = {}
  for lang, child in pairs(parser:children()) do
    local regions = 0
    for _ in pairs(child:included_regions()) do regions = regions + 1 end
    children[#children + 1] = lang .. ":" .. regions
  end
  table.sort(children)
  emit("children", table.concat(children, ","))
)lua");
  const std::vector<std::string> matches = lines_with(report, "match");
  const std::vector<std::string> expected_matches = {
      "content,injection.content sql sql  SELECT count(*) AS hits FROM raw_logs ",
      "content,injection.content sql sql SELECT * FROM daily_logs WHERE hits < 0",
      "content,injection.content bash bash gzip -c {input} > {output}",
  };
  CHECK(matches == expected_matches);
  CHECK(lines_with(report, "children") == std::vector<std::string>{"sql:2"});
}

TEST_CASE("nvim: folds.scm folds blocks and multi-line strings") {
  const std::string report = run_on_rules(R"lua(
  local query = get_query("dbuild", "folds")
  for id, node in query:iter_captures(root, 0) do
    local start_row, _, end_row = node:range()
    emit("fold", query.captures[id], start_row + 1, end_row + 1)
  end
)lua");
  // 1-based lines: the table block (5-17) and its sql text (9-12); the one-line strings and
  // the one-line `columns { }` block are captured too (Neovim drops one-line folds).
  const std::vector<std::string> expected = {"fold 5 17", "fold 8 8", "fold 9 12"};
  CHECK(lines_with(report, "fold") == expected);
}

TEST_CASE("nvim: harness reports script errors and what nvim printed, and stops a hung nvim") {
  REQUIRE(testing::nvim_available());
  TempDir dir;
  RunResult r = testing::run_nvim(dir, "", "emit('before')\nerror('boom')\n");
  CHECK(r.exit_code == 3);
  CHECK(r.output.starts_with("before\nerror: "));
  CHECK(r.output.find("boom") != std::string::npos);

  r = testing::run_nvim(dir, "vim.cmd('echoerr \"bad init\"')\n", "emit('ran')\n");
  CHECK(r.exit_code == 0);
  CHECK(r.output.starts_with("ran\nnvim printed:\n"));
  CHECK(r.output.find("bad init") != std::string::npos);

  r = testing::run_nvim(dir, "", "emit('looping')\nwhile true do end\n", "", 1);
  CHECK((r.exit_code == 124 || r.exit_code == 137));  // timeout's codes: TERM worked, KILL needed
  CHECK(r.output.find("looping") == std::string::npos);  // killed before writing its report
}

}  // namespace
}  // namespace dbuild

namespace dbuild {
namespace {

/// Two rule files: a source, and tables reading it (one input is misspelled, so the file
/// has an error), with a multibyte comment before the error.
const std::string kLspSources = "source events {\n  path = \"data/{day}.csv\"\n  format = csv\n"
                                "  partition day: date\n  columns { user: string  amount: int }\n}\n";
const std::string kLspTables =
    "# r\xc3\xa9sum\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87\n"
    "table daily {\n  partition day: date\n  input events[day]\n"
    "  sql \"\"\"SELECT user, sum(amount) AS total FROM events GROUP BY user\"\"\"\n}\n"
    "table broken {\n  partition day: date\n  input evnts[day]\n  sql \"SELECT 1 AS x\"\n}\n";

TEST_CASE("nvim: dbuild lsp through Neovim's own client: diagnostic, hover, definition, completion, formatting") {
  const NvimRuntime& rt = runtime();
  REQUIRE_MESSAGE(testing::nvim_available(), "nvim is not on PATH: scripts/dev test installs Debian's neovim");
  REQUIRE_MESSAGE(rt.error.empty(), rt.error);
  TempDir dir;
  dir.write("workspace.dbuild", "workspace { }\n");
  dir.write("sources.dbuild", kLspSources);
  dir.write("tables.dbuild", kLspTables);
  dir.write("data/2024-01-01.csv", "user,amount\nada,1\n");
  // Everything goes through the documented client set-up; requests are synchronous so the
  // script reads like a user's session. Positions: rows 1-based, columns 0-based bytes.
  const std::string script = R"lua(
  local function wait(what, pred)
    if not vim.wait(10000, pred, 20) then error("timed out waiting for " .. what) end
  end
  local function request(method, params)
    local responses = vim.lsp.buf_request_sync(0, method, params, 10000)
    if not responses then error(method .. ": no response") end
    for _, r in pairs(responses) do
      if r.err then error(method .. ": " .. vim.inspect(r.err)) end
      return r.result
    end
    error(method .. ": no client answered")
  end
  local function at(row, col)
    vim.api.nvim_win_set_cursor(0, { row, col })
    return vim.lsp.util.make_position_params()
  end
  wait("the client", function() return #vim.lsp.buf_get_clients(0) > 0 end)
  wait("a diagnostic", function() return #vim.diagnostic.get(0) > 0 end)
  for _, d in ipairs(vim.diagnostic.get(0)) do
    emit("diagnostic", d.lnum, d.col, d.severity, (d.message:gsub("\n", " ")))
  end
  -- Hover on `events` in `input events[day]` (row 4).
  local hover = request("textDocument/hover", at(4, 9))
  local contents = hover.contents.value or hover.contents
  emit("hover", (tostring(contents):gsub("\n", " ")))
  -- Definition of the same name: the source in the other file.
  local def = request("textDocument/definition", at(4, 9))
  if def.uri == nil then def = def[1] end
  emit("definition", vim.fn.fnamemodify(vim.uri_to_fname(def.uri or def.targetUri), ":t"),
       (def.range or def.targetSelectionRange).start.line)
  -- Completion after `input ` on a new line in `broken`.
  vim.api.nvim_buf_set_lines(0, 9, 9, false, { "  input " })
  vim.wait(400)  -- the client sends changes after a short debounce (150 ms on 0.7)
  -- (Explicit position: in normal mode the cursor cannot sit after the line's last character.)
  local items = request("textDocument/completion",
    { textDocument = { uri = vim.uri_from_bufnr(0) }, position = { line = 9, character = 8 } })
  items = items.items or items
  local labels = {}
  for _, item in ipairs(items) do labels[#labels + 1] = item.label end
  table.sort(labels)
  emit("completion", table.concat(labels, " "))
  -- Formatting a messy but valid buffer replaces it with the canonical layout.
  vim.api.nvim_buf_set_lines(0, 0, -1, false,
    { "# r\195\169sum\195\169 \228\184\173\230\150\135", "table daily{partition day:date", " input events[day]   sql \"SELECT 1 AS x\"}" })
  vim.wait(400)
  local edits = request("textDocument/formatting", vim.lsp.util.make_formatting_params())
  vim.lsp.util.apply_text_edits(edits, 0, "utf-16")
  emit("formatted", table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "|"))
  for _, client in pairs(vim.lsp.get_active_clients()) do client.stop() end
  wait("the server to stop", function() return #vim.lsp.get_active_clients() == 0 end)
)lua";
  const RunResult r = testing::run_nvim(dir, rt.init_lua() + testing::nvim_lsp_client_lua(testing::dbuild_binary()),
                                        script, "tables.dbuild", 40);
  INFO("report:\n" << r.output);
  REQUIRE(r.exit_code == 0);
  // The misspelled input: line 9 (0-based 8), the column of `evnts`, an error (severity 1)
  // naming it, with the hint.
  auto diagnostics = lines_with(r.output, "diagnostic");
  CHECK(std::find(diagnostics.begin(), diagnostics.end(),
                  "8 8 1 unknown dataset `evnts` hint: did you mean `events`?") != diagnostics.end());
  auto hover = lines_with(r.output, "hover");
  REQUIRE(hover.size() == 1);
  CHECK(hover[0].find("events") != std::string::npos);
  CHECK(hover[0].find("day") != std::string::npos);
  CHECK(lines_with(r.output, "definition") == std::vector<std::string>{"sources.dbuild 0"});
  auto completion = lines_with(r.output, "completion");
  REQUIRE(completion.size() == 1);
  CHECK(completion[0].find("events") != std::string::npos);
  CHECK(completion[0].find("daily") != std::string::npos);
  CHECK(completion[0].find("partition") == std::string::npos);  // datasets, not keywords
  CHECK(lines_with(r.output, "formatted") ==
        std::vector<std::string>{"# r\xc3\xa9sum\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87|table daily {|  partition day: date|"
                                 "  input events[day]|  sql \"SELECT 1 AS x\"|}"});
}

}  // namespace
}  // namespace dbuild
