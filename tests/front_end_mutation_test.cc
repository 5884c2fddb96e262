// Mutation test of the front end: thousands of mutants of every example and standard library
// file (deep nesting, huge numbers, truncation, byte flips, duplicated tokens) go through the
// parser, the model and the query check in-process. None may crash; with sanitizers (CI) none
// may have undefined behaviour either. Each yields diagnostics or a model.
#include <algorithm>
#include <filesystem>
#include <random>

#include <doctest/doctest.h>

#include "checking/query_check.h"
#include "cli/engine_factory.h"
#include "model/model_builder.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace dbuild {
namespace {

/// Makes mutants of one file's text, reproducibly.
class Mutator {
 public:
  Mutator(std::string text, uint32_t seed) : text_(std::move(text)), rng_(seed) {}

  std::vector<std::string> all() {
    std::vector<std::string> out;
    for (int i = 0; i < 60; ++i) out.push_back(truncated());
    for (int i = 0; i < 200; ++i) out.push_back(flipped());
    for (int i = 0; i < 150; ++i) out.push_back(duplicated());
    for (int i = 0; i < 60; ++i) out.push_back(nested());
    for (int i = 0; i < 120; ++i) out.push_back(huge_number());
    return out;
  }

 private:
  size_t pick(size_t n) { return n == 0 ? 0 : rng_() % n; }
  static std::string repeat(std::string_view s, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += s;
    return out;
  }

  std::string truncated() { return text_.substr(0, pick(text_.size() + 1)); }

  std::string flipped() {
    std::string t = text_;
    static const char kJunk[] = "{}[]()\"'#=:,.*-+\n\\\0x\xff";
    for (size_t k = 0, n = 1 + pick(4); k < n && !t.empty(); ++k) {
      char& c = t[pick(t.size())];
      c = pick(2) ? kJunk[pick(sizeof kJunk - 1)] : static_cast<char>(c ^ (1u << pick(8)));
    }
    return t;
  }

  /// A token (a run of non-space bytes) repeated, in place, 2 to 2000 times.
  std::string duplicated() {
    if (text_.empty()) return text_;
    size_t at = pick(text_.size());
    while (at > 0 && !std::isspace(static_cast<unsigned char>(text_[at - 1]))) --at;
    size_t end = at;
    while (end < text_.size() && !std::isspace(static_cast<unsigned char>(text_[end]))) ++end;
    std::string token = text_.substr(at, end - at) + " ";
    size_t times = pick(3) == 0 ? 2000 : 2 + pick(20);
    return text_.substr(0, at) + repeat(token, times) + text_.substr(at);
  }

  /// Deep nesting or a long chain of operators, around a word, in the rules or in a template.
  std::string nested() {
    static const char* kOpen[] = {"(", "[", "{", "{{ (", "- ", "1 + ", "(1 + ", "month("};
    static const char* kClose[] = {")", "]", "}", ") }}", "", "", ")", ")"};
    size_t kind = pick(std::size(kOpen));
    size_t depth = pick(2) ? 150 + pick(100) : 10000 + pick(90000);
    size_t at = pick(text_.size() + 1);
    return text_.substr(0, at) + repeat(kOpen[kind], depth) + "day" + repeat(kClose[kind], depth) +
           text_.substr(at);
  }

  /// A number (or the start of a word) replaced by a huge or malformed one.
  std::string huge_number() {
    static const char* kNumbers[] = {"9223372036854775808", "9223372036854775807", "-9223372036854775808",
                                     "99999999999999999999999999", "18446744073709551616TB",
                                     "999999999999999TB", "1e400", "0.0000000000000000001",
                                     "100000000000000000000000000000000000000000.5", "-0", "00000000000000000001"};
    std::vector<size_t> digits;
    for (size_t i = 0; i < text_.size(); ++i)
      if (std::isdigit(static_cast<unsigned char>(text_[i])) && (i == 0 || !std::isalnum(static_cast<unsigned char>(text_[i - 1]))))
        digits.push_back(i);
    size_t at = digits.empty() ? pick(text_.size() + 1) : digits[pick(digits.size())];
    size_t end = at;
    while (end < text_.size() && std::isalnum(static_cast<unsigned char>(text_[end]))) ++end;
    return text_.substr(0, at) + kNumbers[pick(std::size(kNumbers))] + text_.substr(end);
  }

  std::string text_;
  std::mt19937 rng_;
};

TEST_CASE("mutation: thousands of mutants of the examples and the standard library never crash") {
  const std::string example = testing::source_dir() + "/examples/nasa";
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(example))
    if (e.path().extension() == ".dbuild" || e.path().extension() == ".sql") files.push_back(e.path());
  for (const auto& e : fs::directory_iterator(testing::source_dir() + "/rules"))
    if (e.path().extension() == ".dbuild") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 5);

  // One copy of the example's rule files; each mutant replaces one file, then it is restored.
  testing::TempDir dir;
  for (const auto& f : files)
    if (f.string().starts_with(example)) dir.write(fs::relative(f, example).string(), testing::slurp(f.string()));
  size_t runs = 0, with_errors = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const fs::path& victim = files[i];
    std::string original = testing::slurp(victim.string());
    bool in_example = victim.string().starts_with(example);
    std::string rel = in_example ? fs::relative(victim, example).string() : "lib.dbuild";
    for (const std::string& text : Mutator(original, static_cast<uint32_t>(1000 + i)).all()) {
      dir.write(rel, text);
      Workspace ws;
      Diagnostics diags;
      load_workspace(dir.path(), ws, diags);
      Model m = build_model(ws, {}, diags);
      if (!diags.has_errors() && runs % 8 == 0) exec::check_queries(m, *open_engines(m, dir.sub("none.db")), diags);
      std::string out = render(diags, ws.files);
      CHECK((diags.has_errors() || !m.datasets.empty() || !m.formats.empty() || !m.vars.empty()));
      if (diags.has_errors()) ++with_errors;
      ++runs;
    }
    if (in_example) dir.write(rel, original);
    else fs::remove(dir.sub(rel));
  }
  CHECK(runs >= 2500);
  CHECK(with_errors > runs / 4);
  MESSAGE(runs << " mutants, " << with_errors << " with errors");
}

}  // namespace
}  // namespace dbuild
