// `dbuild check --format json`, `check FILES`, `check --stdin-path` and the JSON error objects
// of --json commands, through the real binary (docs/json.md).
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace dbuild {
namespace {

using json = nlohmann::json;

const char* kWorkspace = "source s { path = \"data/{day}.csv\"  format = csv  partition day: date }\n";
// The error is on line 2 after multibyte text: `nope` starts at code point 39, UTF-16 unit
// 40 (the emoji is two units), byte 46.
const char* kBrokenA = "# café ünïcödé 🎉\ntable t { sql \"SELECT '中文🎉' AS x FROM nope\" }\n";
const char* kCleanA = "# café\ntable t { sql \"SELECT count(*) AS n FROM s\" }\n";
const char* kBrokenB = "table u { partition day: dat  sql \"SELECT 1 AS x FROM s\" }\n";

/// A workspace with one CSV partition; `a` and `b` are a.dbuild and b.dbuild.
struct Workspace {
  testing::TempDir dir;
  testing::DbuildIn dbuild{dir.path()};
  Workspace(const char* a, const char* b) {
    dir.write("workspace.dbuild", kWorkspace);
    dir.write("data/2024-01-01.csv", "x\n1\n");
    if (a) dir.write("a.dbuild", a);
    if (b) dir.write("b.dbuild", b);
  }
  /// stdout of `dbuild ARGS` in the workspace, parsed (an empty object when it is not JSON).
  json run(const std::string& args) {
    std::string out = dbuild.run(args);
    json j = json::parse(out, nullptr, false);
    if (j.is_discarded()) {
      MESSAGE("not JSON: " << out << dbuild.err);
      return json::object();
    }
    return j;
  }
};

TEST_CASE("check json: one object whose columns count code points and UTF-16 units") {
  Workspace w(kBrokenA, nullptr);
  json j = w.run("check --format json");
  CHECK(w.dbuild.code == 1);
  CHECK(w.dbuild.err == "");
  REQUIRE(j["diagnostics"].size() == 1);
  const json& d = j["diagnostics"][0];
  CHECK(d["file"] == "a.dbuild");
  CHECK(d["line"] == 2);
  CHECK(d["column"] == 39);
  CHECK(d["end_line"] == 2);
  CHECK(d["end_column"] == 43);
  CHECK(d["utf16_column"] == 40);
  CHECK(d["utf16_end_column"] == 44);
  CHECK(d["severity"] == "error");
  CHECK(d["message"] == "unknown table `nope` in the query of `t`");
  CHECK(d.contains("hint"));
  CHECK(j["errors"] == 1);
  CHECK(j["warnings"] == 0);
  // --json is the same; the text output names the same column and lines the caret up.
  CHECK(w.run("check --json") == j);
  w.dbuild.run("check");
  CHECK(w.dbuild.code == 1);
  CHECK(w.dbuild.err.find("a.dbuild:2:39: error: unknown table `nope`") != std::string::npos);
  std::string caret = "   | " + std::string(38 + 3, ' ') + "^~~~\n";  // 中, 文 and 🎉 are two cells
  CHECK(w.dbuild.err.find(caret) != std::string::npos);
}

TEST_CASE("check json: a clean workspace gives no diagnostics and exit 0") {
  Workspace w(kCleanA, nullptr);
  json j = w.run("check --json");
  CHECK(w.dbuild.code == 0);
  CHECK(j == json{{"diagnostics", json::array()}, {"errors", 0}, {"warnings", 0}});
}

TEST_CASE("check json: with FILES only their diagnostics are reported and counted") {
  Workspace w(kBrokenA, kBrokenB);
  json all = w.run("check --json");
  std::set<std::string> files;
  for (const auto& d : all["diagnostics"]) files.insert(d["file"].get<std::string>());
  CHECK(files == std::set<std::string>{"a.dbuild", "b.dbuild"});

  json b = w.run("check --json b.dbuild");
  CHECK(w.dbuild.code == 1);
  REQUIRE(b["diagnostics"].size() >= 1);
  for (const auto& d : b["diagnostics"]) CHECK(d["file"] == "b.dbuild");
  CHECK(b["diagnostics"][0]["message"] == "unknown key type `dat`");
  CHECK(b["errors"] == b["diagnostics"].size());

  json clean = w.run("check --json workspace.dbuild");  // errors elsewhere do not count
  CHECK(w.dbuild.code == 0);
  CHECK(clean["diagnostics"].empty());

  w.dbuild.run("check ./b.dbuild");  // text too, whatever the spelling of the path
  CHECK(w.dbuild.code == 1);
  CHECK(w.dbuild.err.find("b.dbuild:1:") != std::string::npos);
  CHECK(w.dbuild.err.find("a.dbuild") == std::string::npos);

  w.run("check --json missing.dbuild");
  CHECK(w.dbuild.code == 64);
}

TEST_CASE("check json: --stdin-path checks standard input as the file's text") {
  Workspace w(kCleanA, kBrokenB);
  w.dir.write(".broken", kBrokenA);
  w.dir.write(".clean", kCleanA);
  json j = w.run("check --json --stdin-path a.dbuild < .broken");
  CHECK(w.dbuild.code == 1);
  REQUIRE(j["diagnostics"].size() == 1);  // only the buffer's: b.dbuild's error is not reported
  CHECK(j["diagnostics"][0]["file"] == "a.dbuild");
  CHECK(j["diagnostics"][0]["column"] == 39);

  // The buffer replaces the file on disk: a fix not yet saved checks clean.
  w.dir.write("a.dbuild", kBrokenA);
  j = w.run("check --json --stdin-path a.dbuild < .clean");
  CHECK(w.dbuild.code == 0);
  CHECK(j["diagnostics"].empty());

  // With FILES, those are reported instead.
  j = w.run("check --json --stdin-path a.dbuild b.dbuild < .clean");
  CHECK(w.dbuild.code == 1);
  REQUIRE(!j["diagnostics"].empty());
  CHECK(j["diagnostics"][0]["file"] == "b.dbuild");
}

TEST_CASE("check json: --stdin-path may name a file not written yet - from a subdirectory too") {
  Workspace w(kCleanA, nullptr);
  w.dir.write(".broken", kBrokenA);
  w.dir.write("marts/.keep", "");
  json j = w.run("check --json --stdin-path marts/new.dbuild < .broken");
  CHECK(w.dbuild.code == 1);
  REQUIRE(j["diagnostics"].size() == 1);
  CHECK(j["diagnostics"][0]["file"] == "marts/new.dbuild");
  CHECK(j["diagnostics"][0]["line"] == 2);

  testing::DbuildIn sub{w.dir.sub("marts")};
  j = json::parse(sub.run("check --json --stdin-path new.dbuild < ../.broken"), nullptr, false);
  CHECK(sub.code == 1);
  REQUIRE(j.contains("diagnostics"));
  REQUIRE(j["diagnostics"].size() == 1);
  CHECK(j["diagnostics"][0]["file"] == "new.dbuild");
  // The buffer is part of the workspace: a table it declares is known to the other files.
  w.dir.write(".declares", "table nope { sql \"SELECT 1 AS x FROM s\" }\n");
  w.dir.write("a.dbuild", kBrokenA);
  j = w.run("check --json --stdin-path marts/new.dbuild a.dbuild < .declares");
  CHECK(w.dbuild.code == 0);
  CHECK(j["diagnostics"].empty());
}

TEST_CASE("check json: --stdin-path outside the workspace is a usage error object") {
  Workspace w(kCleanA, nullptr);
  w.dir.write(".clean", kCleanA);
  json j = w.run("check --json --stdin-path ../elsewhere.dbuild < .clean");
  CHECK(w.dbuild.code == 64);
  CHECK(j["error"]["code"] == "usage");
  CHECK(j["error"]["message"].get<std::string>().find("--stdin-path ../elsewhere.dbuild") != std::string::npos);
  CHECK(w.dbuild.err.find("dbuild: error: --stdin-path") != std::string::npos);
}

TEST_CASE("check json: --json commands print an error object with the diagnostics on rule errors") {
  Workspace w(kBrokenA, nullptr);
  for (const char* command : {"plan --json", "build --json", "status --json", "graph --format json"}) {
    CAPTURE(command);
    json j = w.run(command);
    CHECK(w.dbuild.code == 1);
    CHECK(j["error"]["code"] == "rules_error");
    CHECK(j["error"]["message"] == "1 error in the rules");
    REQUIRE(j["error"]["diagnostics"].size() == 1);
    CHECK(j["error"]["diagnostics"][0]["column"] == 39);
    CHECK(w.dbuild.err.find("a.dbuild:2:39: error: unknown table `nope`") != std::string::npos);  // text kept
  }
  CHECK(w.dbuild.run("plan") == "");  // without --json, stdout stays empty
  CHECK(w.dbuild.code == 1);
}

TEST_CASE("check json: --json error objects for a missing directory, no workspace and bad usage") {
  testing::TempDir empty;
  testing::DbuildIn d{empty.path()};
  json j = json::parse(d.run("plan --json -C does/not/exist"), nullptr, false);
  CHECK(d.code == 1);
  CHECK(j["error"]["code"] == "no_directory");
  CHECK(j["error"]["diagnostics"] == json::array());
  CHECK(d.err.find("does/not/exist is not a directory") != std::string::npos);

  for (const char* command : {"status --json", "history --json", "check --json"}) {
    CAPTURE(command);
    j = json::parse(d.run(command), nullptr, false);
    CHECK(d.code == 1);
    CHECK(j["error"]["code"] == "no_workspace");
  }

  Workspace w(kCleanA, nullptr);
  j = w.run("plan --json --no-such-flag");
  CHECK(w.dbuild.code == 64);
  CHECK(j["error"]["code"] == "usage");
  j = w.run("plan --json 'nope@2024'");
  CHECK(w.dbuild.code == 64);
  CHECK(j["error"]["code"] == "usage");
  j = w.run("build --json --var oops");
  CHECK(w.dbuild.code == 64);
  CHECK(j["error"]["code"] == "usage");
}

TEST_CASE("check json: build --json while another build holds the lock prints a locked error") {
  Workspace w(kCleanA, nullptr);
  auto r = testing::run_command("cd " + w.dir.path() + " && mkdir -p .dbuild && (flock .dbuild/build.lock sleep 3 &) && "
                                "for i in $(seq 100); do flock -n .dbuild/build.lock true || break; sleep 0.05; done && " +
                                testing::dbuild_binary() + " build --json 2>/dev/null", false);
  CHECK(r.exit_code == 3);
  json j = json::parse(r.output, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["error"]["code"] == "locked");
  CHECK(j["error"]["message"].get<std::string>().find("another dbuild build is running") != std::string::npos);
}

}  // namespace
}  // namespace dbuild
