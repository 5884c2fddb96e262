// Tests of the tree-sitter grammar itself: the corpus under grammar/test/corpus (tree-sitter's
// test format) must parse to exactly the expected trees, and the editor queries under
// grammar/queries must compile against the generated parser and capture what they claim.
#include <doctest/doctest.h>
#include <re2/re2.h>
#include <tree_sitter/api.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

extern "C" const TSLanguage* tree_sitter_dbuild(void);

namespace {

namespace fs = std::filesystem;

const fs::path kGrammarDir = fs::path(DBUILD_SOURCE_DIR) / "grammar";

/// Deleters so tree-sitter objects are owned by std::unique_ptr.
struct TsDeleter {
  void operator()(TSParser* p) const { ts_parser_delete(p); }
  void operator()(TSTree* t) const { ts_tree_delete(t); }
  void operator()(TSQuery* q) const { ts_query_delete(q); }
  void operator()(TSQueryCursor* c) const { ts_query_cursor_delete(c); }
};
using ParserPtr = std::unique_ptr<TSParser, TsDeleter>;
using TreePtr = std::unique_ptr<TSTree, TsDeleter>;
using QueryPtr = std::unique_ptr<TSQuery, TsDeleter>;
using CursorPtr = std::unique_ptr<TSQueryCursor, TsDeleter>;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TreePtr parse(const std::string& source) {
  ParserPtr parser(ts_parser_new());
  REQUIRE(ts_parser_set_language(parser.get(), tree_sitter_dbuild()));
  TreePtr tree(ts_parser_parse_string(parser.get(), nullptr, source.data(),
                                      static_cast<uint32_t>(source.size())));
  REQUIRE(tree != nullptr);
  return tree;
}

std::string node_sexp(TSNode node) {
  char* raw = ts_node_string(node);
  std::string result(raw);
  free(raw);  // NOLINT: allocated by tree-sitter with malloc.
  return result;
}

std::string node_text(TSNode node, const std::string& source) {
  const uint32_t begin = ts_node_start_byte(node);
  return source.substr(begin, ts_node_end_byte(node) - begin);
}

/// Collapses whitespace runs to one space, trims, and drops spaces before ')', so trees
/// compare equal however the corpus indents them.
std::string normalize_sexp(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space && c != ')') out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

// ---- Corpus files ----

/// One test of a corpus file: a named input and the tree it must parse to.
struct CorpusEntry {
  std::string file;
  std::string name;
  std::string input;
  std::string expected;  // S-expression as written in the corpus (not normalized).
  bool skip = false;     // `:skip` attribute: not run.
  bool error = false;    // `:error` attribute: the tree must contain an error; no tree given.
  bool has_divider = false;
};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

/// A header rule (`===...`) or divider (`---...`): three or more of `c` and nothing else.
bool is_rule(const std::string& line, char c) {
  return line.size() >= 3 && std::all_of(line.begin(), line.end(), [c](char x) { return x == c; });
}

std::string join_lines(const std::vector<std::string>& lines, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) {
    if (i > begin) out += '\n';
    out += lines[i];
  }
  return out;
}

/// Fills name and attributes from the lines between the two header rules.
void read_header(const std::vector<std::string>& lines, size_t begin, size_t end,
                 CorpusEntry& entry) {
  for (size_t i = begin; i < end; ++i) {
    const std::string& line = lines[i];
    if (i > begin && line.starts_with(':')) {
      entry.skip = entry.skip || line == ":skip";
      entry.error = entry.error || line == ":error";
    } else if (entry.name.empty()) {
      entry.name = line;
    }
  }
}

/// Fills input and expected tree from the body; like tree-sitter, the last divider wins,
/// so an input may itself contain a `---` line.
void read_body(const std::vector<std::string>& lines, size_t begin, size_t end,
               CorpusEntry& entry) {
  size_t divider = end;
  for (size_t i = begin; i < end; ++i) {
    if (is_rule(lines[i], '-')) divider = i;
  }
  entry.has_divider = divider != end;
  entry.input = join_lines(lines, begin, divider);
  if (entry.has_divider) entry.expected = join_lines(lines, divider + 1, end);
}

/// Splits a corpus file in tree-sitter's test format into its entries:
///   ====\n name \n [:attribute...] \n ====\n input \n ---\n expected tree
std::vector<CorpusEntry> parse_corpus(const std::string& file, const std::string& text) {
  const std::vector<std::string> lines = split_lines(text);
  std::vector<CorpusEntry> entries;
  size_t i = 0;
  while (i < lines.size()) {
    if (!is_rule(lines[i], '=')) {
      ++i;
      continue;
    }
    size_t header_end = i + 1;
    while (header_end < lines.size() && !is_rule(lines[header_end], '=')) ++header_end;
    size_t body_end = std::min(header_end + 1, lines.size());
    while (body_end < lines.size() && !is_rule(lines[body_end], '=')) ++body_end;

    CorpusEntry entry{.file = file};
    read_header(lines, i + 1, header_end, entry);
    read_body(lines, std::min(header_end + 1, lines.size()), body_end, entry);
    entries.push_back(std::move(entry));
    i = body_end;
  }
  return entries;
}

std::vector<fs::path> corpus_files() {
  std::vector<fs::path> files;
  for (const auto& item : fs::directory_iterator(kGrammarDir / "test" / "corpus")) {
    if (item.is_regular_file() && item.path().extension() == ".txt") files.push_back(item.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void check_entry(const CorpusEntry& entry) {
  INFO("corpus entry " << entry.file << ": \"" << entry.name << "\"");
  REQUIRE_MESSAGE(entry.has_divider, "entry has no `---` line before its expected tree");
  TreePtr tree = parse(entry.input);
  TSNode root = ts_tree_root_node(tree.get());
  const std::string actual = node_sexp(root);
  if (entry.error) {
    CHECK_MESSAGE(ts_node_has_error(root), "expected a parse error, got\n  " << actual);
    return;
  }
  const std::string expected = normalize_sexp(entry.expected);
  const bool same_tree = normalize_sexp(actual) == expected;
  CHECK_MESSAGE(same_tree, "parse tree differs\n  expected: " << expected << "\n  actual:   "
                                                               << normalize_sexp(actual));
}

TEST_CASE("grammar: corpus parses to the expected trees") {
  const std::vector<fs::path> files = corpus_files();
  REQUIRE_MESSAGE(!files.empty(), "no corpus files in grammar/test/corpus");
  size_t total = 0;
  for (const fs::path& path : files) {
    const std::vector<CorpusEntry> entries =
        parse_corpus(path.filename().string(), read_file(path));
    CHECK_MESSAGE(!entries.empty(), path.filename().string() << " has no entries");
    for (const CorpusEntry& entry : entries) {
      if (!entry.skip) check_entry(entry);
    }
    total += entries.size();
  }
  CHECK(total > 20);
}

TEST_CASE("grammar: corpus format reader") {
  const std::string text =
      "=====\nfirst\n:skip\n=====\nvar a = 1\n---\n---\n(x\n  (y))\n"
      "=====\nsecond\n=====\n\n---\n\n(source_file)\n";
  const std::vector<CorpusEntry> entries = parse_corpus("t.txt", text);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].name == "first");
  CHECK(entries[0].skip);
  CHECK(entries[0].input == "var a = 1\n---");
  CHECK(normalize_sexp(entries[0].expected) == "(x (y))");
  CHECK(entries[1].name == "second");
  CHECK(!entries[1].skip);
  CHECK(entries[1].input.empty());
  CHECK(normalize_sexp(entries[1].expected) == "(source_file)");
}

// ---- Queries ----

std::string query_error_name(TSQueryError error) {
  switch (error) {
    case TSQueryErrorNone: return "none";
    case TSQueryErrorSyntax: return "syntax";
    case TSQueryErrorNodeType: return "node type";
    case TSQueryErrorField: return "field";
    case TSQueryErrorCapture: return "capture";
    case TSQueryErrorStructure: return "structure";
    case TSQueryErrorLanguage: return "language";
  }
  return "unknown";
}

/// Compiles grammar/queries/<name>; on error fails with the error type, offset and context.
QueryPtr load_query(const std::string& name) {
  const std::string source = read_file(kGrammarDir / "queries" / name);
  uint32_t offset = 0;
  TSQueryError error = TSQueryErrorNone;
  QueryPtr query(ts_query_new(tree_sitter_dbuild(), source.data(),
                              static_cast<uint32_t>(source.size()), &offset, &error));
  if (!query) {
    FAIL_CHECK(name << ": " << query_error_name(error) << " error at offset " << offset
                    << " near `" << source.substr(offset, 40) << "`");
  }
  return query;
}

std::string capture_name(const TSQuery* query, uint32_t id) {
  uint32_t length = 0;
  const char* name = ts_query_capture_name_for_id(query, id, &length);
  return std::string(name, length);
}

std::string predicate_string(const TSQuery* query, uint32_t id) {
  uint32_t length = 0;
  const char* value = ts_query_string_value_for_id(query, id, &length);
  return std::string(value, length);
}

/// One predicate of a pattern, e.g. `#match? @constant "^[A-Z]"`: its name and arguments.
struct Predicate {
  std::string name;
  std::vector<TSQueryPredicateStep> args;
};

std::vector<Predicate> predicates(const TSQuery* query, uint32_t pattern) {
  uint32_t count = 0;
  const TSQueryPredicateStep* steps = ts_query_predicates_for_pattern(query, pattern, &count);
  std::vector<Predicate> result;
  Predicate current;
  for (uint32_t i = 0; i < count; ++i) {
    const TSQueryPredicateStep& step = steps[i];
    if (step.type == TSQueryPredicateStepTypeDone) {
      result.push_back(std::move(current));
      current = Predicate{};
    } else if (current.name.empty()) {
      current.name = predicate_string(query, step.value_id);
    } else {
      current.args.push_back(step);
    }
  }
  return result;
}

/// A query match that passed its predicates, with capture names resolved and `#set!` settings.
struct Match {
  uint32_t pattern = 0;
  std::vector<std::pair<std::string, TSNode>> captures;  // capture name, node
  std::map<std::string, std::string> settings;           // from `#set! key "value"`
};

/// The text an argument of a predicate stands for: a string literal or a captured node's text.
std::string argument_text(const TSQuery* query, const TSQueryMatch& raw,
                          const TSQueryPredicateStep& arg, const std::string& source) {
  if (arg.type == TSQueryPredicateStepTypeString) return predicate_string(query, arg.value_id);
  for (uint16_t i = 0; i < raw.capture_count; ++i) {
    if (raw.captures[i].index == arg.value_id) return node_text(raw.captures[i].node, source);
  }
  return {};
}

/// The predicates apply_predicates understands; the queries may use no others.
bool is_supported_predicate(const std::string& name) {
  return name == "eq?" || name == "match?" || name == "not-match?" || name == "set!";
}

/// Evaluates #eq?, #match? and #not-match? (what the queries use) and records #set! settings.
/// Returns false when a predicate rejects the match.
bool apply_predicates(const TSQuery* query, const TSQueryMatch& raw, const std::string& source,
                      Match& match) {
  for (const Predicate& p : predicates(query, raw.pattern_index)) {
    std::vector<std::string> args;
    for (const TSQueryPredicateStep& arg : p.args) {
      args.push_back(argument_text(query, raw, arg, source));
    }
    if (p.name == "eq?" && args.size() == 2 && args[0] != args[1]) return false;
    if (p.name == "match?" && args.size() == 2 && !RE2::PartialMatch(args[0], RE2(args[1]))) {
      return false;
    }
    if (p.name == "not-match?" && args.size() == 2 && RE2::PartialMatch(args[0], RE2(args[1]))) {
      return false;
    }
    if (p.name == "set!" && args.size() == 2) match.settings[args[0]] = args[1];
  }
  return true;
}

std::vector<Match> run_query(const TSQuery* query, TSNode root, const std::string& source) {
  CursorPtr cursor(ts_query_cursor_new());
  ts_query_cursor_exec(cursor.get(), query, root);
  std::vector<Match> matches;
  TSQueryMatch raw;
  while (ts_query_cursor_next_match(cursor.get(), &raw)) {
    Match match{.pattern = raw.pattern_index};
    for (uint16_t i = 0; i < raw.capture_count; ++i) {
      match.captures.emplace_back(capture_name(query, raw.captures[i].index), raw.captures[i].node);
    }
    if (apply_predicates(query, raw, source, match)) matches.push_back(std::move(match));
  }
  return matches;
}

/// The highlight of each source range as tree-sitter-highlight picks it: the capture of the
/// earliest pattern that captures the node. Keyed by (start byte, end byte).
using Highlights = std::map<std::pair<uint32_t, uint32_t>, std::pair<uint32_t, std::string>>;

Highlights highlights(const std::vector<Match>& matches) {
  Highlights result;
  for (const Match& match : matches) {
    for (const auto& [name, node] : match.captures) {
      auto key = std::make_pair(ts_node_start_byte(node), ts_node_end_byte(node));
      auto it = result.find(key);
      if (it == result.end() || match.pattern < it->second.first) {
        result[key] = {match.pattern, name};
      }
    }
  }
  return result;
}

/// Highlight of the `occurrence`-th (0-based) appearance of `text` in `source`.
std::string highlight_of(const Highlights& hl, const std::string& source, const std::string& text,
                         size_t occurrence = 0) {
  size_t at = source.find(text);
  for (size_t i = 0; i < occurrence && at != std::string::npos; ++i) at = source.find(text, at + 1);
  REQUIRE_MESSAGE(at != std::string::npos, "sample has no `" << text << "`");
  auto it = hl.find({static_cast<uint32_t>(at), static_cast<uint32_t>(at + text.size())});
  return it == hl.end() ? std::string("<none>") : it->second.second;
}

const std::string kSample = R"(# Sample rules.
import "std/access_log"
var threshold = 400
var MAX_ROWS = 1000000

source raw_logs {
  path = "data/raw/{month}.log"
  partition month: month
}

table daily_logs {
  partition day: date
  input raw_logs[month(day)], events[day - 6 .. day]
  columns { hits: int "%d" }
  sql """SELECT count(*) AS hits FROM raw_logs"""
  check row_count < MAX_ROWS
  check "no negative hits" sql "SELECT * FROM daily_logs WHERE hits < 0"
  test "counts" { given raw_logs file "raw.csv" expect "hits\n1" }
}

table exported {
  input daily_logs
  command "gzip -c {input} > {output}"
  sql file "unused.sql"
}
)";

TEST_CASE("grammar: queries compile") {
  for (const std::string name :
       {"highlights.scm", "injections.scm", "locals.scm", "folds.scm", "indents.scm",
        "nvim-treesitter-0.8/indents.scm", "helix/indents.scm"}) {
    INFO("query " << name);
    QueryPtr query = load_query(name);
    if (!query) continue;  // load_query reported the error.
    for (uint32_t pattern = 0; pattern < ts_query_pattern_count(query.get()); ++pattern) {
      for (const Predicate& p : predicates(query.get(), pattern)) {
        CHECK_MESSAGE(is_supported_predicate(p.name), "unsupported predicate #" << p.name);
      }
    }
  }
}

TEST_CASE("grammar: highlights.scm captures the sample") {
  QueryPtr query = load_query("highlights.scm");
  REQUIRE(query != nullptr);
  TreePtr tree = parse(kSample);
  REQUIRE(!ts_node_has_error(ts_tree_root_node(tree.get())));
  const Highlights hl = highlights(run_query(query.get(), ts_tree_root_node(tree.get()), kSample));
  auto at = [&](const std::string& text, size_t occurrence = 0) {
    return highlight_of(hl, kSample, text, occurrence);
  };

  CHECK(at("# Sample rules.") == "comment");
  CHECK(at("import") == "keyword");
  CHECK(at("table") == "keyword");
  CHECK(at("partition") == "keyword");
  CHECK(at("check") == "keyword");
  CHECK(at("file") == "keyword");
  CHECK(at("daily_logs") == "type.definition");
  CHECK(at("daily_logs", 1) == "<none>");  // inside the check's SQL: only the string
  CHECK(at("daily_logs", 2) == "type");    // `exported`'s input
  CHECK(at("raw_logs") == "type.definition");
  CHECK(at("threshold") == "variable");
  CHECK(at("MAX_ROWS") == "constant");
  CHECK(at("MAX_ROWS", 1) == "constant");
  CHECK(at("date") == "type");
  CHECK(at("int") == "type");
  CHECK(at("hits") == "property");
  CHECK(at("path") == "property");
  CHECK(at("month", 3) == "function.builtin");  // in `raw_logs[month(day)]`
  CHECK(at("400") == "number");
  CHECK(at("\"std/access_log\"") == "string");
  CHECK(at("\"no negative hits\"") == "string");  // the quotes
  CHECK(at("no negative hits") == "string.special");
  CHECK(at("\"%d\"") == "string");
  CHECK(at("%d") == "string.special");
  CHECK(at("..") == "operator");
  CHECK(at("{", 0) == "punctuation.bracket");  // `source raw_logs {`
  CHECK(at("{", 1) == "<none>");  // inside "data/raw/{month}.log": only the string is captured
  CHECK(at("row_count") == "variable");
}

TEST_CASE("grammar: injections.scm marks SQL and shell text in both conventions") {
  QueryPtr query = load_query("injections.scm");
  REQUIRE(query != nullptr);
  TreePtr tree = parse(kSample);
  // One match per text, naming the language in both conventions and capturing the text under
  // both names (see injections.scm): language, text.
  std::vector<std::pair<std::string, std::string>> injections;
  for (const Match& match : run_query(query.get(), ts_tree_root_node(tree.get()), kSample)) {
    std::map<std::string, std::string> texts;  // capture name -> text
    for (const auto& [name, node] : match.captures) texts[name] = node_text(node, kSample);
    REQUIRE(texts.size() == 2);
    CHECK(texts["content"] == texts["injection.content"]);
    std::map<std::string, std::string> settings = match.settings;
    CHECK(settings["language"] == settings["injection.language"]);
    injections.emplace_back(settings["injection.language"], texts["injection.content"]);
  }
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"sql", "SELECT count(*) AS hits FROM raw_logs"},
      {"sql", "SELECT * FROM daily_logs WHERE hits < 0"},
      {"bash", "gzip -c {input} > {output}"},
  };
  CHECK(injections == expected);
}

/// Per node (start, end, symbol): the set of capture names highlights.scm gives it.
std::map<std::tuple<uint32_t, uint32_t, TSSymbol>, std::set<std::string>> names_per_node(
    const TSQuery* query, const std::string& source) {
  TreePtr tree = parse(source);
  std::map<std::tuple<uint32_t, uint32_t, TSSymbol>, std::set<std::string>> names;
  for (const Match& match : run_query(query, ts_tree_root_node(tree.get()), source)) {
    for (const auto& [name, node] : match.captures) {
      names[{ts_node_start_byte(node), ts_node_end_byte(node), ts_node_symbol(node)}].insert(name);
    }
  }
  return names;
}

TEST_CASE("grammar: highlights.scm gives no node two names, so pattern order does not matter") {
  // Neovim applies the last matching pattern, tree-sitter's highlighter and Helix the first:
  // the queries are right for both only when no node is captured under two names. Checked on
  // the sample and on every corpus input.
  QueryPtr query = load_query("highlights.scm");
  REQUIRE(query != nullptr);
  std::vector<std::pair<std::string, std::string>> sources = {{"sample", kSample}};
  for (const fs::path& path : corpus_files()) {
    for (const CorpusEntry& entry : parse_corpus(path.filename().string(), read_file(path))) {
      if (!entry.error && !entry.skip) sources.emplace_back(entry.file + ": " + entry.name, entry.input);
    }
  }
  size_t nodes = 0;
  for (const auto& [label, source] : sources) {
    for (const auto& [key, names] : names_per_node(query.get(), source)) {
      ++nodes;
      const auto [begin, end, symbol] = key;
      if (names.size() > 1) {
        std::string list;
        for (const std::string& name : names) list += " @" + name;
        FAIL_CHECK(label << ": `" << source.substr(begin, end - begin) << "` is captured as" << list);
      }
    }
  }
  CHECK(nodes > 500);
}

/// (capture name, first line, last line) of every capture of `query_name` in `source`;
/// lines are 1-based.
std::vector<std::tuple<std::string, uint32_t, uint32_t>> captured_lines(const std::string& query_name,
                                                                        const std::string& source) {
  QueryPtr query = load_query(query_name);
  REQUIRE(query != nullptr);
  TreePtr tree = parse(source);
  std::vector<std::tuple<std::string, uint32_t, uint32_t>> out;
  for (const Match& match : run_query(query.get(), ts_tree_root_node(tree.get()), source)) {
    for (const auto& [name, node] : match.captures) {
      out.emplace_back(name, ts_node_start_point(node).row + 1, ts_node_end_point(node).row + 1);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

const std::string kFoldSample = R"(table t {
  columns { a: int }
  sql """
    SELECT 1 AS a
  """
  check "one" sql "SELECT 1"
  test "one row" {
    expect """
      a
      1
    """
  }
}
)";

TEST_CASE("grammar: folds.scm folds blocks, test bodies and triple-quoted strings") {
  using Capture = std::tuple<std::string, uint32_t, uint32_t>;
  const std::vector<Capture> expected = {
      {"fold", 1, 13},   // the table's block
      {"fold", 2, 2},    // `columns { }`
      {"fold", 3, 5},    // the query
      {"fold", 7, 12},   // the test's body
      {"fold", 8, 11},   // the expected rows
  };
  CHECK(captured_lines("folds.scm", kFoldSample) == expected);
}

TEST_CASE("grammar: indents.scm says the same in nvim-treesitter's new and old names and Helix'") {
  // One file per convention (nvim-treesitter fails on names it does not know); each capture
  // name is translated to what it does, and the three must agree on kFoldSample.
  using Capture = std::tuple<std::string, uint32_t, uint32_t>;
  const std::vector<std::pair<std::string, std::map<std::string, std::string>>> files = {
      {"indents.scm",
       {{"indent.begin", "open"}, {"indent.branch", "close"}, {"indent.end", "end"},
        {"indent.auto", "keep"}}},
      {"nvim-treesitter-0.8/indents.scm",
       {{"indent", "open"}, {"branch", "close"}, {"indent_end", "end"}, {"auto", "keep"}}},
      {"helix/indents.scm", {{"indent", "open"}, {"outdent", "close"}}},
  };
  std::vector<Capture> expected;
  for (auto [first, last] : {std::pair{1u, 13u}, {2u, 2u}, {7u, 12u}}) {
    expected.emplace_back("open", first, last);  // the table's block, `columns`, the test body
  }
  for (uint32_t line : {2u, 12u, 13u}) expected.emplace_back("close", line, line);  // each `}`
  for (const auto& [file, meanings] : files) {
    INFO(file);
    std::vector<Capture> actual;
    for (const auto& [name, first, last] : captured_lines(file, kFoldSample)) {
      auto meaning = meanings.find(name);
      REQUIRE_MESSAGE(meaning != meanings.end(), "unknown capture @" << name);
      actual.emplace_back(meaning->second, first, last);
    }
    auto has = [&meanings](const std::string& meaning) {
      return std::any_of(meanings.begin(), meanings.end(),
                         [&](const auto& entry) { return entry.second == meaning; });
    };
    std::vector<Capture> want = expected;
    if (has("end")) {
      for (uint32_t line : {2u, 12u, 13u}) want.emplace_back("end", line, line);
    }
    if (has("keep")) {  // the triple-quoted strings
      for (auto [first, last] : {std::pair{3u, 5u}, {8u, 11u}}) want.emplace_back("keep", first, last);
    }
    std::sort(actual.begin(), actual.end());
    std::sort(want.begin(), want.end());
    auto show = [](const std::vector<Capture>& captures) {
      std::string out;
      for (const auto& [name, first, last] : captures) {
        out += " " + name + ":" + std::to_string(first) + "-" + std::to_string(last);
      }
      return out;
    };
    CHECK_MESSAGE(actual == want, "captured" << show(actual) << "\nexpected" << show(want));
  }
}

TEST_CASE("grammar: locals.scm finds scopes and definitions") {
  QueryPtr query = load_query("locals.scm");
  REQUIRE(query != nullptr);
  TreePtr tree = parse(kSample);
  std::multimap<std::string, std::string> captures;  // capture name -> text
  size_t scopes = 0;
  for (const Match& match : run_query(query.get(), ts_tree_root_node(tree.get()), kSample)) {
    for (const auto& [name, node] : match.captures) {
      if (name == "scope") {
        ++scopes;
      } else {
        captures.emplace(name, node_text(node, kSample));
      }
    }
  }
  auto has = [&](const std::string& name, const std::string& text) {
    auto [begin, end] = captures.equal_range(name);
    return std::any_of(begin, end, [&](const auto& entry) { return entry.second == text; });
  };
  CHECK(has("definition.type", "daily_logs"));
  CHECK(has("definition.type", "raw_logs"));
  CHECK(has("definition.var", "threshold"));
  CHECK(has("definition.parameter", "day"));
  CHECK(has("definition.field", "hits"));
  CHECK(has("reference", "day"));
  CHECK(!has("definition.type", "day"));
  CHECK(scopes == 6);  // the file, four blocks (one of them `columns`), one test body
}

}  // namespace
