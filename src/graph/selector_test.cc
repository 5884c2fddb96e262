#include "graph/selector.h"

#include <doctest/doctest.h>

#include "model/model_builder.h"
#include "test_util.h"

namespace dbuild {
namespace {

class NoTables : public SourceLister {
 public:
  Result<ListedPartitions> list_table_partitions(const Dataset&) override { return ListedPartitions{}; }
};

/// ev (3 days) -> daily -> total, plus an unrelated monthly source.
struct Graph {
  testing::TempDir dir;
  Workspace ws;
  Model model;
  ActionGraph g;
  Graph() {
    dir.write("workspace.dbuild", R"X(
source ev { path = "ev/{day}.csv" format = csv partition day: date }
source other { path = "o/{month}.csv" format = csv partition month: month }
table daily { partition day: date  sql "SELECT * FROM ev" }
table total { sql "SELECT * FROM daily" }
)X");
    for (const char* f : {"ev/2024-03-01.csv", "ev/2024-03-02.csv", "ev/2024-03-03.csv", "o/2024-02.csv", "o/2024-03.csv"})
      dir.write(f, "a\n1\n");
    Diagnostics diags;
    load_workspace(dir.path(), ws, diags);
    model = build_model(ws, {}, diags);
    REQUIRE(render(diags, ws.files) == "");
    NoTables lister;
    auto built = build_action_graph(model, lister);
    REQUIRE(built.ok());
    g = std::move(*built);
  }
  std::vector<std::string> select(std::vector<std::string> selectors, std::string from = "", std::string to = "") {
    auto flags = select_actions(g, SelectOptions{std::move(selectors), std::move(from), std::move(to)});
    REQUIRE(flags.ok());
    std::vector<std::string> out;
    for (ActionId a = 0; a < g.size(); ++a)
      if ((*flags)[a]) out.push_back(g.label(a));
    return out;
  }
  std::string error(std::vector<std::string> selectors) {
    auto flags = select_actions(g, SelectOptions{std::move(selectors), "", ""});
    REQUIRE(!flags.ok());
    return flags.status().message();
  }
};

using V = std::vector<std::string>;

TEST_CASE("selectors: names, partitions, ranges and globs") {
  Graph t;
  CHECK(t.select({"daily@2024-03-02"}) == V{"daily@2024-03-02"});
  CHECK(t.select({"daily@2024-03-02..2024-03-03"}) == V{"daily@2024-03-02", "daily@2024-03-03"});
  CHECK(t.select({"tot*"}) == V{"total"});
  CHECK(t.select({"other@2024-03-01..2024-03-31"}) == V{"other@2024-03"});
  CHECK(t.select({}).size() == 3 + 2 + 3 + 1);
}

TEST_CASE("selectors: +upstream and downstream+") {
  Graph t;
  CHECK(t.select({"+daily@2024-03-02"}) == V{"ev@2024-03-02", "daily@2024-03-02"});
  CHECK(t.select({"ev@2024-03-01+"}) == V{"ev@2024-03-01", "daily@2024-03-01", "total"});
}

TEST_CASE("selectors: --from/--to keep partitions overlapping the range") {
  Graph t;
  CHECK(t.select({"daily", "other"}, "2024-03-02", "2024-03-02") == V{"other@2024-03", "daily@2024-03-02"});
  CHECK(t.select({"total"}, "2030-01-01") == V{"total"});  // no date key: not limited
}

TEST_CASE("selectors: clear errors") {
  Graph t;
  CHECK(t.error({"daly"}) == "no dataset matches `daly` (did you mean `daily`?)");
  CHECK(t.error({"daily@2024-04-01"}) == "`daily` has no partition 2024-04-01 (it has 3 partitions, 2024-03-01 .. 2024-03-03)");
  CHECK(t.error({"daily@yesterday"}) == "`daily@yesterday` is not a partition of `daily`: write it like daily@2024-03-05");
  CHECK(t.error({"total@x"}) == "`total` is unpartitioned: select it as `total`");
}

TEST_CASE("glob matching") {
  CHECK(glob_match("daily_*", "daily_urls"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("d?ily", "daily"));
  CHECK_FALSE(glob_match("daily_*", "daily"));
  CHECK(glob_match("*_rates", "daily_url_error_rates"));
}

}  // namespace
}  // namespace dbuild
