// The front end on the shipped example and standard library, on broken copies of them,
// and through the real binary.
#include <filesystem>
#include <random>

#include <doctest/doctest.h>
#include <re2/re2.h>

#include "model/model_builder.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace dbuild {
namespace {

const std::string kExample = testing::source_dir() + "/examples/nasa";

TEST_CASE("the NASA example checks clean and has the expected shape") {
  Workspace ws;
  Diagnostics diags;
  load_workspace(kExample, ws, diags);
  Model m = build_model(ws, {}, diags);
  CHECK(render(diags, ws.files) == "");
  for (const char* name : {"raw_logs", "http_status", "daily_logs", "daily_urls",
                           "daily_url_errors", "daily_url_error_rates"})
    CHECK_MESSAGE(m.find(name), name);
  const Dataset* rates = m.find("daily_url_error_rates");
  REQUIRE(rates);
  CHECK(rates->inputs.size() == 2);
  CHECK(m.find("daily_logs")->inputs.at(0).terms.at(0).kind == MapTerm::Kind::Month);
}

TEST_CASE("std/access_log: common_log parses real log lines into its columns") {
  Workspace ws;
  Diagnostics diags;
  testing::TempDir dir;
  dir.write("workspace.dbuild", "import \"std/access_log\"\n");
  load_workspace(dir.path(), ws, diags);
  Model m = build_model(ws, {}, diags);
  REQUIRE(render(diags, ws.files) == "");
  const FormatDef* clf = nullptr;
  for (const auto& f : m.formats)
    if (f.name == "common_log") clf = &f;
  REQUIRE(clf);
  REQUIRE(clf->columns.size() == 9);
  RE2 re(clf->pattern);
  REQUIRE(re.ok());
  std::string host, ident, user, time, method, url, proto, status, bytes;
  CHECK(RE2::FullMatch("199.72.81.55 - - [01/Jul/1995:00:00:01 -0400] \"GET /history/apollo/ HTTP/1.0\" 200 6245",
                       re, &host, &ident, &user, &time, &method, &url, &proto, &status, &bytes));
  CHECK(host == "199.72.81.55");
  CHECK(time == "01/Jul/1995:00:00:01 -0400");
  CHECK(url == "/history/apollo/");
  CHECK(status == "200");
  CHECK(bytes == "6245");
  CHECK(RE2::FullMatch("a.b - - [01/Jul/1995:00:00:09 -0400] \"GET /x\" 304 -", re, &host, &ident,
                       &user, &time, &method, &url, &proto, &status, &bytes));
  CHECK(proto == "");
  CHECK_FALSE(RE2::FullMatch("garbage line", re));
}

/// Every example file, truncated at many points and with bytes garbled, never crashes the
/// front end, and always yields diagnostics or a model.
TEST_CASE("robustness: truncated and garbled copies of every example") {
  std::mt19937 rng(1234);
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(kExample))
    if (e.path().extension() == ".dbuild" || e.path().extension() == ".sql") files.push_back(e.path());
  for (const auto& e : fs::directory_iterator(testing::source_dir() + "/rules"))
    if (e.path().extension() == ".dbuild") files.push_back(e.path());
  REQUIRE(files.size() >= 4);
  size_t runs = 0;
  for (const fs::path& victim : files) {
    std::string original = testing::slurp(victim.string());
    std::vector<std::string> variants;
    for (size_t cut = 0; cut < original.size(); cut += 1 + original.size() / 40)
      variants.push_back(original.substr(0, cut));
    for (int i = 0; i < 30; ++i) {
      std::string g = original;
      for (int k = 0; k < 3 && !g.empty(); ++k) {
        size_t at = rng() % g.size();
        const char junk[] = "{}[]()\"'#=:,.*\n\0x\xff";
        g[at] = junk[rng() % (sizeof junk - 1)];
      }
      variants.push_back(g);
    }
    for (const std::string& text : variants) {
      testing::TempDir dir;
      for (const auto& f : files) {
        if (!f.string().starts_with(kExample)) continue;
        std::string rel = fs::relative(f, kExample).string();
        dir.write(rel, f == victim ? text : testing::slurp(f.string()));
      }
      if (!victim.string().starts_with(kExample)) dir.write("extra.dbuild", text);
      Workspace ws;
      Diagnostics diags;
      load_workspace(dir.path(), ws, diags);
      Model m = build_model(ws, {}, diags);
      std::string out = render(diags, ws.files);
      if (text != original) CHECK((diags.has_errors() || !m.datasets.empty()));
      ++runs;
    }
  }
  CHECK(runs > 200);
}

TEST_CASE("dbuild check: the example prints nothing and exits 0 - a broken copy exits 1") {
  auto ok = testing::run_command(testing::dbuild_binary() + " check -C " + kExample);
  CHECK(ok.exit_code == 0);
  CHECK(ok.output == "");

  testing::TempDir dir;
  dir.write("workspace.dbuild", "var threshold = 400\n");
  dir.write("t.dbuild", "table t {\n  sql \"SELECT {{ threshhold }}\"\n}\n");
  auto bad = testing::run_command("cd " + dir.path() + " && " + testing::dbuild_binary() + " check");
  CHECK(bad.exit_code == 1);
  CHECK(bad.output ==
        "t.dbuild:2:18: error: unknown name `threshhold` in template\n"
        " 2 |   sql \"SELECT {{ threshhold }}\"\n"
        "   |                  ^~~~~~~~~~\n"
        "  hint: did you mean `threshold`?\n"
        "1 error found\n");

  auto nowhere = testing::run_command(testing::dbuild_binary() + " check -C /");
  CHECK(nowhere.exit_code == 1);
  CHECK(nowhere.output.find("no workspace.dbuild found") != std::string::npos);
}

}  // namespace
}  // namespace dbuild

namespace dbuild {
namespace {

TEST_CASE("dbuild check prepares every query against its inputs' columns, without a warehouse") {
  testing::TempDir dir;
  dir.write("workspace.dbuild", "");
  dir.write("rules.dbuild",
            "source s {\n  path = \"s/{day}.csv\"\n  format = csv\n  partition day: date\n"
            "  columns { shop: string  amount: int }\n}\n"
            "table t {\n  partition day: date\n  sql \"\"\"\n    SELECT shop, sum(amont) AS total FROM s GROUP BY shop\n  \"\"\"\n}\n");
  auto r = testing::run_command("cd " + dir.path() + " && " + testing::dbuild_binary() + " check");
  CHECK(r.exit_code == 1);
  CHECK(r.output ==
        "rules.dbuild:10:22: error: SQL error in `t`: no such column: amont\n"
        " 10 |     SELECT shop, sum(amont) AS total FROM s GROUP BY shop\n"
        "    |                      ^\n"
        "  hint: dbuild prepares each query against the columns its inputs produce\n"
        "1 error found\n");
  CHECK(!std::filesystem::exists(dir / "warehouse.db"));

  dir.write("rules.dbuild",
            "source s {\n  path = \"s/{day}.csv\"\n  format = csv\n  partition day: date\n"
            "  columns { shop: string  amount: int }\n}\n"
            "table t {\n  partition day: date\n  sql \"SELECT shop, day FROM s\"\n}\n");
  r = testing::run_command("cd " + dir.path() + " && " + testing::dbuild_binary() + " check");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("error: the query of `t` returns a column `day`, which is its partition key") != std::string::npos);
}

}  // namespace
}  // namespace dbuild
