#include "format/formatter.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <tree_sitter/api.h>

#include "base/diagnostic.h"
#include "base/source_files.h"
#include "syntax/rules_parser.h"
#include "test_util.h"

namespace dbuild {
namespace {

namespace fs = std::filesystem;

std::string must_format(std::string_view text) {
  auto r = format_rules(text, "test.dbuild");
  INFO(text);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  return *r;
}

/// The text of every comment in a parsed text, trailing blanks trimmed, sorted (a multiset).
std::vector<std::string> comments(std::string_view text) {
  TSParser* parser = ts_parser_new();
  ts_parser_set_language(parser, tree_sitter_dbuild());
  TSTree* tree = ts_parser_parse_string(parser, nullptr, text.data(), static_cast<uint32_t>(text.size()));
  std::vector<std::string> out;
  std::vector<TSNode> stack = {ts_tree_root_node(tree)};
  while (!stack.empty()) {
    TSNode n = stack.back();
    stack.pop_back();
    if (std::string_view(ts_node_type(n)) == "comment") {
      std::string c(text.substr(ts_node_start_byte(n), ts_node_end_byte(n) - ts_node_start_byte(n)));
      while (!c.empty() && (c.back() == ' ' || c.back() == '\t' || c.back() == '\r')) c.pop_back();
      out.push_back(c);
    }
    for (uint32_t i = 0; i < ts_node_child_count(n); ++i) stack.push_back(ts_node_child(n, i));
  }
  ts_tree_delete(tree);
  ts_parser_delete(parser);
  std::sort(out.begin(), out.end());
  return out;
}

// ---- the typed AST, written out without spans ----

void dump(std::ostream& o, const ast::Expr& e) {
  o << "(" << static_cast<int>(e.kind) << " " << e.text;
  for (const auto& c : e.children) dump(o, c);
  o << ")";
}
void dump(std::ostream& o, const ast::StringLit& s) { o << "\"" << s.value << "\"" << s.raw; }
void dump(std::ostream& o, const ast::Text& t) {
  o << "text " << t.from_file << " ";
  dump(o, t.literal);
}
void dump(std::ostream& o, const ast::Attribute& a) {
  o << "attr " << a.name << "=";
  dump(o, a.value);
  o << "\n";
}
void dump(std::ostream& o, const ast::FieldDecl& f) {
  o << "field " << f.name << ":" << f.type;
  if (f.format) dump(o, *f.format);
  o << "\n";
}
void dump(std::ostream& o, const ast::Block& b) {
  for (const auto& a : b.attributes) dump(o, a);
  for (const auto& n : b.nested) {
    o << "nested " << n.name << "{\n";
    for (const auto& a : n.attributes) dump(o, a);
    for (const auto& f : n.fields) dump(o, f);
    o << "}\n";
  }
  for (const auto& f : b.fields) dump(o, f);
  for (const auto& k : b.partition) o << "partition " << k.name << ":" << k.type << "\n";
  o << "partition clauses " << b.partition_clauses.size() << "\n";
  for (const auto& in : b.inputs) {
    o << "input " << in.dataset;
    if (in.mapping)
      for (const auto& m : *in.mapping) {
        o << " [" << m.key.value_or("") << "=";
        dump(o, m.value);
        o << "]";
      }
    o << "\n";
  }
  for (const auto& t : b.sql) dump(o << "sql ", t);
  for (const auto& t : b.command) dump(o << "command ", t);
  for (const auto& s : b.output) dump(o << "output ", s);
  for (const auto& c : b.checks) {
    o << "check ";
    if (c.label) dump(o, *c.label);
    if (c.condition) dump(o, *c.condition);
    if (c.query) dump(o, *c.query);
    o << "\n";
  }
  for (const auto& t : b.tests) {
    dump(o << "test ", t.name);
    for (const auto& g : t.given) dump(o << " given " << g.dataset << " ", g.rows);
    for (const auto& e : t.expect) dump(o << " expect ", e);
    for (const auto& a : t.attributes) dump(o, a);
    o << "\n";
  }
}

/// The typed AST of a text, without spans, and whether it parsed without errors.
std::string ast_of(std::string_view text) {
  SourceFiles files;
  FileId id = files.add("x.dbuild", std::string(text));
  Diagnostics diags;
  ast::File f = parse_rules(files, id, diags);
  std::ostringstream o;
  o << "errors " << diags.has_errors() << "\n";
  for (const auto& d : f.declarations) {
    o << ast::kind_name(d.kind) << " " << d.name << " " << d.has_syntax_error << "\n";
    if (d.kind == ast::Declaration::Kind::Import) dump(o, d.import_path);
    if (d.value) dump(o, *d.value);
    dump(o, d.body);
  }
  return o.str();
}

/// Formats `text` and checks the guarantees: idempotent, comments kept, same AST, one final
/// newline. Returns the formatted text.
std::string check_guarantees(const std::string& name, std::string_view text) {
  INFO(name);
  std::string once = must_format(text);
  std::string twice = must_format(once);
  CHECK(once == twice);
  CHECK(comments(once) == comments(text));
  CHECK(ast_of(once) == ast_of(text));
  if (!once.empty()) {
    CHECK(once.back() == '\n');
    CHECK(!once.ends_with("\n\n"));
  }
  return once;
}

std::vector<std::string> rule_files_under(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".dbuild") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

struct CorpusEntry {
  std::string name;
  std::string source;
};

/// The sources of tree-sitter's test corpus: `====` header lines around each entry's name,
/// then the source up to a `---` line, then the expected tree (skipped).
std::vector<CorpusEntry> corpus_entries() {
  std::vector<CorpusEntry> out;
  for (const auto& e : fs::directory_iterator(testing::source_dir() + "/grammar/test/corpus")) {
    if (e.path().extension() != ".txt") continue;
    std::istringstream in(testing::slurp(e.path().string()));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    for (size_t i = 0; i + 2 < lines.size(); ++i) {
      if (!lines[i].starts_with("===")) continue;
      CorpusEntry entry{e.path().filename().string() + ": " + lines[i + 1], ""};
      size_t j = i + 3;
      for (; j < lines.size() && !lines[j].starts_with("---"); ++j) entry.source += lines[j] + "\n";
      out.push_back(entry);
      for (i = j; i + 1 < lines.size() && !lines[i + 1].starts_with("==="); ++i) {
      }
    }
  }
  return out;
}

bool parses(std::string_view text) {
  SourceFiles files;
  FileId id = files.add("x.dbuild", std::string(text));
  Diagnostics diags;
  parse_rules(files, id, diags);
  return !diags.has_errors();
}

}  // namespace

TEST_CASE("fmt: examples and the standard library are idempotent, keep comments and their AST") {
  auto files = rule_files_under(testing::source_dir() + "/examples");
  auto stdlib = rule_files_under(testing::source_dir() + "/rules");
  files.insert(files.end(), stdlib.begin(), stdlib.end());
  REQUIRE(files.size() >= 4);
  for (const auto& f : files) check_guarantees(f, testing::slurp(f));
}

TEST_CASE("fmt: every corpus entry that parses is idempotent, keeps comments and its AST") {
  auto entries = corpus_entries();
  size_t checked = 0;
  for (const auto& e : entries) {
    if (!parses(e.source)) continue;
    check_guarantees(e.name, e.source);
    ++checked;
  }
  CHECK(checked >= 20);
  MESSAGE(fmt::format("{} corpus entries of {} formatted", checked, entries.size()));
}

TEST_CASE("fmt: messy inputs keep their meaning and comments") {
  const char* inputs[] = {
      "table t{partition day:date input a[day-6..day],b[*] sql \"\"\"SELECT 1\"\"\" check row_count>0}",
      "  # only a comment",
      "",
      "var a=1 var b\nvar c = -(2+3)*4",
      "table t { # after brace\n\n\n  a = 1 # trailing\n\n\n\n  # before b\n  b = [1,2,3,]\n  # before close\n}\n",
      "table # between keyword and name\n t # before brace\n {\n x = f(1, # in args\n 2)\n}",
      "table t { check \"label\"; sql \"\"\"SELECT 1\"\"\" }",
      "table t { check \"l\" sql \"\"\"SELECT 1\"\"\" ; ; a = 1; }",
      "workspace { slurm { queue = \"x\" time = 1h } }",
      "table t { group {max_count=10} columns { a: int  b: timestamp \"%Y\" } x { } }",
      "table t { slurm { queue = \"a-very-long-queue-name-that-goes-on\" time = 1h cpus = 8 mem = 16GB account = \"research\" } }",
      "table t { slurm {\n queue = \"x\" } }",
      "table t { test \"x\" { given a \"\"\"\n  a | b\n   1 | 2\n\"\"\" expect file \"e.csv\" partition = \"2024-01-01\" } }",
      "format f { pattern = '^(\\S+) #not a comment$' null = \"#\" }",
      "table t {\r\n  a = 1\r\n}\r\n",
      "# a\n\n\n# b\ntable a {}\n# c\ntable b {}\n\n\n\n# end\n",
      "import \"std/access_log\" import \"x\"\nvar v = 1 table t {}",
  };
  for (const char* in : inputs) check_guarantees(in, in);
}

TEST_CASE("fmt: exact layout of messy spacing, mappings, lists and calls") {
  std::string in =
      "table   daily{partition day:date,country:string\n"
      "input a[day-6..day],b[*],c[month(day)],d[day=day,country=\"US\"]\n"
      "env=[\"A\",\"B\",]   check accepted_values(m,\"GET\",\"HEAD\")\n"
      "check row_count>=-1 output \"o/{day}.csv\"}\n"
      "var x=1+2*3";
  CHECK(must_format(in) ==
        "table daily {\n"
        "  partition day: date, country: string\n"
        "  input a[day - 6 .. day], b[*], c[month(day)], d[day = day, country = \"US\"]\n"
        "  env = [\"A\", \"B\"]\n"
        "  check accepted_values(m, \"GET\", \"HEAD\")\n"
        "  check row_count >= -1\n"
        "  output \"o/{day}.csv\"\n"
        "}\n"
        "\n"
        "var x = 1 + 2 * 3\n");
}

TEST_CASE("fmt: exact layout of comments everywhere") {
  std::string in =
      "# header\n\n\n\n# about t\ntable t {   # opens t\n\n"
      "  a = 1    # one\n\n\n\n      # about b\nb = 2\n  # last\n\n}   # closes t\n"
      "# about v\n\nvar v";
  CHECK(must_format(in) ==
        "# header\n"
        "\n"
        "# about t\n"
        "table t { # opens t\n"
        "  a = 1 # one\n"
        "\n"
        "  # about b\n"
        "  b = 2\n"
        "  # last\n"
        "} # closes t\n"
        "\n"
        "# about v\n"
        "\n"
        "var v\n");
}

TEST_CASE("fmt: exact layout of nested blocks, tests and SQL left as written") {
  std::string in =
      "table t {\n"
      "    slurm { queue = \"x\"   time = 1h }\n"
      "  group {\n max_count = 10 }\n"
      "      columns {a:int b:string}\n"
      "  sql \"\"\"\n"
      "        SELECT a,\n"
      "   b   FROM   x\n"
      "  \"\"\"\n"
      "test \"t\" {given x \"\"\"a\n1\"\"\" expect \"\"\"a\"\"\"}\n"
      "}";
  CHECK(must_format(in) ==
        "table t {\n"
        "  slurm { queue = \"x\" time = 1h }\n"
        "  group {\n"
        "    max_count = 10\n"
        "  }\n"
        "  columns { a: int b: string }\n"
        "  sql \"\"\"\n"
        "        SELECT a,\n"
        "   b   FROM   x\n"
        "  \"\"\"\n"
        "  test \"t\" {\n"
        "    given x \"\"\"a\n"
        "1\"\"\"\n"
        "    expect \"\"\"a\"\"\"\n"
        "  }\n"
        "}\n");
}

TEST_CASE("fmt: a one-line nested block wider than 100 columns gets one attribute per line") {
  std::string attrs = "queue = \"q\" account = \"" + std::string(60, 'a') + "\" time = 1h cpus = 8";
  std::string out = must_format("table t { slurm { " + attrs + " } }");
  CHECK(out ==
        "table t {\n"
        "  slurm {\n"
        "    queue = \"q\"\n"
        "    account = \"" + std::string(60, 'a') + "\"\n"
        "    time = 1h\n"
        "    cpus = 8\n"
        "  }\n"
        "}\n");
}

TEST_CASE("fmt: a semicolon that separates a check's string from a sql clause is kept") {
  CHECK(must_format("table t { check \"x\"; sql \"\"\"SELECT 1\"\"\" }") ==
        "table t {\n  check \"x\";\n  sql \"\"\"SELECT 1\"\"\"\n}\n");
  CHECK(must_format("table t { a = 1; b = 2; }") == "table t {\n  a = 1\n  b = 2\n}\n");
}

TEST_CASE("fmt: a file with a syntax error is refused with its position") {
  auto r = format_rules("table t {\n  partition day: date\n  input = \n}\n", "dir/p.dbuild");
  REQUIRE(!r.ok());
  CHECK(r.status().message().starts_with("dir/p.dbuild:3:"));
  CHECK(r.status().message().find("fix the syntax error first; dbuild fmt never rewrites a file it cannot parse") !=
        std::string::npos);
  auto missing = format_rules("table t {\n  a = 1\n", "m.dbuild");
  REQUIRE(!missing.ok());
  CHECK(missing.status().message().starts_with("m.dbuild:"));
  auto deep = format_rules("var x = " + std::string(150, '(') + "1" + std::string(150, ')'), "d.dbuild");
  REQUIRE(!deep.ok());
  CHECK(deep.status().message().starts_with("d.dbuild:1:"));
}

TEST_CASE("fmt: a 1,000-rule file formats in tens of milliseconds of CPU") {
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text += fmt::format(
        "# rule {}\ntable t{} {{ partition day:date input a[day-6..day], b[*]\n"
        "  sql \"\"\"\n    SELECT x FROM a\n  \"\"\"  check unique(x) slurm {{ queue = \"q\" time = 1h }} }}\n",
        i, i);
  // CPU time of this thread, not wall time: the machine running the tests may be busy.
  auto cpu_ms = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  };
  double start = cpu_ms();
  std::string out = must_format(text);
  double ms = cpu_ms() - start;
  MESSAGE(fmt::format("1,000 rules ({} bytes): {:.1f} ms of CPU", text.size(), ms));
  CHECK(out.size() > text.size() / 2);
  // Parsing is most of it (about 30 ms for this text in a release build); the bound is loose
  // enough for a busy machine and a Debug or sanitizer build, and still catches a formatter
  // that would be quadratic.
  CHECK(ms < 400);
}

}  // namespace dbuild
