// `dbuild fmt` end to end: the real binary on workspaces in temporary directories, and the
// proof that formatting never changes what a workspace means (every definition hash equal).
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "graph/action_key.h"
#include "model/model_builder.h"
#include "model/workspace.h"
#include "test_util.h"

namespace dbuild {
namespace {

namespace fs = std::filesystem;
using testing::DbuildIn;
using testing::slurp;
using testing::TempDir;

/// Every dataset's definition hash, by name, of the workspace at `root` (built as the front
/// end builds it); fails the test when the workspace has errors.
std::map<std::string, std::string> definitions(const std::string& root) {
  Workspace ws;
  Diagnostics diags;
  load_workspace(root, ws, diags);
  Model model = build_model(ws, ModelOptions{}, diags);
  INFO(render(diags, ws.files));
  REQUIRE(!diags.has_errors());
  std::vector<Hash128> hashes = definition_hashes(model);
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < model.datasets.size(); ++i) out[model.datasets[i].name] = hashes[i].hex();
  return out;
}

/// The text of every rule file under `root`, by path.
std::map<std::string, std::string> rule_texts(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.path().extension() == ".dbuild") out[e.path().string()] = slurp(e.path().string());
  return out;
}

const char* kMessy = "table t{partition day:date   sql \"\"\"SELECT 1\"\"\"}\n";
const char* kMessyFormatted = "table t {\n  partition day: date\n  sql \"\"\"SELECT 1\"\"\"\n}\n";

}  // namespace

TEST_CASE("fmt: formatting examples/nasa changes no definition hash") {
  TempDir dir;
  testing::copy_nasa_example(dir.path());
  // Indent everything oddly first (inside SQL too, where whitespace does not count), so the
  // formatter has work to do whatever the example's layout.
  for (const auto& [path, text] : rule_texts(dir.path())) {
    std::string odd;
    for (char c : text) odd += c == '\n' ? std::string("\n   ") : std::string(1, c);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << odd;
  }
  auto before = definitions(dir.path());
  auto texts = rule_texts(dir.path());
  REQUIRE(before.size() >= 5);
  DbuildIn d{dir.path()};
  d.run("fmt");
  CHECK(d.code == 0);
  CHECK(rule_texts(dir.path()) != texts);  // something was reformatted
  CHECK(definitions(dir.path()) == before);
  d.run("fmt --check");
  CHECK(d.code == 0);
}

TEST_CASE("fmt: formatting each standard library file changes no definition hash") {
  for (const auto& e : fs::directory_iterator(testing::source_dir() + "/rules")) {
    if (e.path().extension() != ".dbuild") continue;
    INFO(e.path().string());
    TempDir dir;
    dir.write("workspace.dbuild", "");
    std::string lib = slurp(e.path().string());
    dir.write("lib.dbuild", lib);
    // One source per format of the file, so that the formats are part of definitions.
    Workspace ws;
    Diagnostics diags;
    load_workspace(dir.path(), ws, diags);
    std::string uses;
    for (const auto& file : ws.asts)
      for (const auto& decl : file.declarations)
        if (decl.kind == ast::Declaration::Kind::Format)
          uses += fmt::format("source s_{0} {{ path = \"data/{0}/{{day}}.log\" format = {0} partition day: date }}\n",
                              decl.name);
    dir.write("uses.dbuild", uses);
    auto before = definitions(dir.path());
    DbuildIn d{dir.path()};
    d.run("fmt");
    CHECK(d.code == 0);
    CHECK(definitions(dir.path()) == before);
  }
}

TEST_CASE("fmt: --check lists the files that are not formatted and exits 1, then 0") {
  TempDir dir;
  dir.write("workspace.dbuild", "workspace {\n  warehouse = \"w.db\"\n}\n");
  std::string messy = dir.write("sub/messy.dbuild", kMessy);
  DbuildIn d{dir.path()};
  CHECK(d.run("fmt --check") == "sub/messy.dbuild\n");
  CHECK(d.code == 1);
  CHECK(slurp(messy) == kMessy);  // --check writes nothing
  CHECK(d.run("fmt") == "sub/messy.dbuild\n");
  CHECK(d.code == 0);
  CHECK(slurp(messy) == kMessyFormatted);
  CHECK(d.run("fmt --check") == "");
  CHECK(d.code == 0);
}

TEST_CASE("fmt: a second run prints nothing and changes nothing") {
  TempDir dir;
  dir.write("workspace.dbuild", "var   a=1\n");
  dir.write("b.dbuild", kMessy);
  DbuildIn d{dir.path()};
  CHECK(d.run("fmt") == "b.dbuild\nworkspace.dbuild\n");
  auto texts = rule_texts(dir.path());
  CHECK(d.run("fmt") == "");
  CHECK(d.code == 0);
  CHECK(rule_texts(dir.path()) == texts);
}

TEST_CASE("fmt: - formats stdin to stdout") {
  TempDir dir;
  std::string in = dir.write("in.txt", kMessy);
  auto r = testing::run_command(testing::dbuild_binary() + " fmt - < " + in, false);
  CHECK(r.exit_code == 0);
  CHECK(r.output == kMessyFormatted);
  auto check = testing::run_command(testing::dbuild_binary() + " fmt --check - < " + in, false);
  CHECK(check.exit_code == 1);
  std::string good = dir.write("good.txt", kMessyFormatted);
  CHECK(testing::run_command(testing::dbuild_binary() + " fmt --check - < " + good, false).exit_code == 0);
  auto broken = testing::run_command(testing::dbuild_binary() + " fmt - 2>&1 <<'EOF'\ntable t {\nEOF", false);
  CHECK(broken.exit_code == 1);
  CHECK(broken.output.find("<stdin>:") != std::string::npos);
}

TEST_CASE("fmt: a file that does not parse is left untouched, the others are formatted") {
  TempDir dir;
  dir.write("workspace.dbuild", "");
  std::string broken_text = "table   broken {\n  partition day: date\n  input = \n}\n";
  std::string broken = dir.write("broken.dbuild", broken_text);
  std::string messy = dir.write("messy.dbuild", kMessy);
  DbuildIn d{dir.path()};
  CHECK(d.run("fmt") == "messy.dbuild\n");
  CHECK(d.code == 1);
  CHECK(d.err.find("broken.dbuild:3:3: syntax error") != std::string::npos);
  CHECK(d.err.find("dbuild fmt never rewrites a file it cannot parse") != std::string::npos);
  CHECK(slurp(broken) == broken_text);
  CHECK(slurp(messy) == kMessyFormatted);
}

TEST_CASE("fmt: named files are formatted in place and keep their mode") {
  TempDir dir;
  std::string f = dir.write("x.dbuild", kMessy);
  REQUIRE(::chmod(f.c_str(), 0640) == 0);
  DbuildIn d{dir.path()};
  d.run("fmt x.dbuild");
  CHECK(d.code == 0);
  CHECK(slurp(f) == kMessyFormatted);
  struct stat st {};
  REQUIRE(::stat(f.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  for (const auto& e : fs::directory_iterator(dir.path()))  // no temporary file left behind
    CHECK(e.path().filename() == "x.dbuild");
}

TEST_CASE("fmt: bad usage exits 64") {
  TempDir dir;
  dir.write("x.dbuild", kMessy);
  DbuildIn d{dir.path()};
  d.run("fmt - x.dbuild");
  CHECK(d.code == 64);
  d.run("fmt --bogus");
  CHECK(d.code == 64);
  CHECK(slurp(dir / "x.dbuild") == kMessy);
}

}  // namespace dbuild
