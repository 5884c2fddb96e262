#include "graph/action_graph.h"

#include <doctest/doctest.h>

#include "graph/action_key.h"
#include "model/model_builder.h"
#include "test_util.h"

namespace dbuild {
namespace {

/// Lists table sources from a fixed map (dataset name -> rows of key texts).
class FakeLister : public SourceLister {
 public:
  std::map<std::string, std::vector<std::vector<std::string>>> tables;
  Result<ListedPartitions> list_table_partitions(const Dataset& ds) override {
    return ListedPartitions{tables[ds.name], {}};
  }
};

/// A workspace in a temp dir, its model and graph.
struct Fixture {
  testing::TempDir dir;
  Workspace ws;
  Model model;
  FakeLister lister;
  std::string diagnostics;

  explicit Fixture(const std::string& rules, const std::vector<std::string>& files = {}) {
    dir.write("workspace.dbuild", "");
    dir.write("rules.dbuild", rules);
    for (const auto& f : files) dir.write(f, "x\n");
    Diagnostics diags;
    load_workspace(dir.path(), ws, diags);
    model = build_model(ws, {}, diags);
    diagnostics = render(diags, ws.files);
  }

  ActionGraph graph() {
    REQUIRE(diagnostics == "");
    auto g = build_action_graph(model, lister);
    REQUIRE(g.ok());
    return std::move(*g);
  }
};

std::vector<std::string> labels_of(const ActionGraph& g, const std::string& dataset) {
  std::vector<std::string> out;
  DatasetId d = g.model->find(dataset)->id;
  for (ActionId a = g.first_action[d]; a < g.first_action[d + 1]; ++a) out.push_back(g.label(a));
  return out;
}

std::vector<std::string> inputs_of(const ActionGraph& g, const std::string& label) {
  for (ActionId a = 0; a < g.size(); ++a) {
    if (g.label(a) != label) continue;
    std::vector<std::string> out;
    for (ActionId in : g.inputs_of(a)) out.push_back(g.label(in));
    return out;
  }
  FAIL("no action ", label);
  return {};
}

TEST_CASE("file sources: partitions come from the files that exist - bad values are skipped") {
  Fixture f("source raw { path = \"raw/{month}/part-{n}.log\" format = lines partition month: month, n: int }\n",
            {"raw/1995-07/part-1.log", "raw/1995-07/part-2.log", "raw/1995-08/part-1.log",
             "raw/1995-13/part-1.log", "raw/1995-08/other.txt", "raw/.hidden/part-1.log"});
  ActionGraph g = f.graph();
  CHECK(labels_of(g, "raw") == std::vector<std::string>{"raw@1995-07,1", "raw@1995-07,2", "raw@1995-08,1"});
  CHECK(g.files[0] == std::vector<std::string>{"raw/1995-07/part-1.log", "raw/1995-07/part-2.log",
                                              "raw/1995-08/part-1.log"});
  REQUIRE(g.warnings.size() == 1);
  CHECK(g.warnings[0] == "raw/1995-13/part-1.log: `1995-13` is not a valid month for key `month`");
}

TEST_CASE("fan-out: a monthly input makes every day of its month - identity follows") {
  Fixture f(R"X(
source raw { path = "raw/{month}.log" format = lines partition month: month }
table daily { partition day: date  input raw[month(day)]  sql "SELECT * FROM raw" }
table urls { partition day: date  sql "SELECT * FROM daily" }
)X",
            {"raw/1995-07.log", "raw/1996-02.log"});
  ActionGraph g = f.graph();
  auto days = labels_of(g, "daily");
  CHECK(days.size() == 31 + 29);
  CHECK(days.front() == "daily@1995-07-01");
  CHECK(days.back() == "daily@1996-02-29");
  CHECK(labels_of(g, "urls").size() == 60);
  CHECK(inputs_of(g, "daily@1995-07-14") == std::vector<std::string>{"raw@1995-07"});
  CHECK(inputs_of(g, "urls@1996-02-29") == std::vector<std::string>{"daily@1996-02-29"});
}

TEST_CASE("windows read the days that exist in the window - partitions follow the input") {
  Fixture f(R"X(
source ev { path = "ev/{day}.csv" format = csv partition day: date }
table weekly { partition day: date  input ev[day - 2 .. day]  sql "SELECT * FROM ev" }
)X",
            {"ev/2024-03-01.csv", "ev/2024-03-02.csv", "ev/2024-03-04.csv"});
  ActionGraph g = f.graph();
  CHECK(labels_of(g, "weekly") == std::vector<std::string>{"weekly@2024-03-01", "weekly@2024-03-02", "weekly@2024-03-04"});
  CHECK(inputs_of(g, "weekly@2024-03-04") == std::vector<std::string>{"ev@2024-03-02", "ev@2024-03-04"});
  CHECK(inputs_of(g, "weekly@2024-03-01") == std::vector<std::string>{"ev@2024-03-01"});
}

TEST_CASE("aggregation by month, unpartitioned outputs, literals and shifts") {
  Fixture f(R"X(
source ev { path = "ev/{day}.csv" format = csv partition day: date }
source geo { path = "geo/{country}.csv" format = csv partition country: string }
table monthly { partition month: month  input ev[days(month)]  sql "SELECT * FROM ev" }
table total { sql "SELECT * FROM monthly" }
table us_daily { partition day: date  input ev[day], geo["US"]  sql "SELECT * FROM ev, geo" }
table prev { partition day: date  input ev[day - 1]  sql "SELECT * FROM ev" }
)X",
            {"ev/2024-02-28.csv", "ev/2024-02-29.csv", "ev/2024-03-01.csv", "geo/US.csv", "geo/FR.csv"});
  ActionGraph g = f.graph();
  CHECK(labels_of(g, "monthly") == std::vector<std::string>{"monthly@2024-02", "monthly@2024-03"});
  CHECK(inputs_of(g, "monthly@2024-02") == std::vector<std::string>{"ev@2024-02-28", "ev@2024-02-29"});
  CHECK(labels_of(g, "total") == std::vector<std::string>{"total"});
  CHECK(inputs_of(g, "total") == std::vector<std::string>{"monthly@2024-02", "monthly@2024-03"});
  CHECK(inputs_of(g, "us_daily@2024-02-29") == std::vector<std::string>{"ev@2024-02-29", "geo@US"});
  CHECK(labels_of(g, "prev") == std::vector<std::string>{"prev@2024-02-29", "prev@2024-03-01", "prev@2024-03-02"});
  CHECK(inputs_of(g, "prev@2024-03-02") == std::vector<std::string>{"ev@2024-03-01"});
}

TEST_CASE("two inputs that both determine the key: partitions where both exist") {
  Fixture f(R"X(
source a { path = "a/{day}.csv" format = csv partition day: date }
source b { path = "b/{day}.csv" format = csv partition day: date }
table j { partition day: date  sql "SELECT * FROM a JOIN b USING (x)" }
)X",
            {"a/2024-01-01.csv", "a/2024-01-02.csv", "b/2024-01-02.csv", "b/2024-01-03.csv"});
  ActionGraph g = f.graph();
  CHECK(labels_of(g, "j") == std::vector<std::string>{"j@2024-01-02"});
}

TEST_CASE("table sources are listed by the engine") {
  Fixture f(R"X(
source orders { table = "legacy_orders" partition day: date, shop: string }
table per_shop { partition day: date, shop: string  sql "SELECT * FROM orders" }
)X");
  f.lister.tables["orders"] = {{"2024-01-02", "b"}, {"2024-01-01", "a"}, {"not-a-date", "x"}};
  ActionGraph g = f.graph();
  CHECK(labels_of(g, "per_shop") == std::vector<std::string>{"per_shop@2024-01-01,a", "per_shop@2024-01-02,b"});
  CHECK(g.warnings.size() == 1);
}

TEST_CASE("keys: reformatting is not a change - text, vars and inputs are") {
  auto key_of = [](const std::string& sql, const std::string& var = "1") {
    Fixture f("var v = " + var + "\nsource s { path = \"s.csv\" format = csv }\ntable t { sql \"\"\"" + sql + "\"\"\" }\n",
              {"s.csv"});
    ActionGraph g = f.graph();
    auto defs = definition_hashes(f.model);
    std::vector<Hash128> fps(g.size(), Hash128{1, 2});
    return action_key(g, defs, 1, fps, {}).key;
  };
  Hash128 base = key_of("SELECT a, {{ v }} FROM s");
  CHECK(key_of("select a,\n  {{v}}   -- note\n FROM s") == base);
  CHECK(key_of("SELECT b, {{ v }} FROM s") != base);
  CHECK(key_of("SELECT a, {{ v }} FROM s", "2") != base);

  Fixture f("source s { path = \"s.csv\" format = csv }\ntable t { sql \"SELECT * FROM s\" }\n", {"s.csv"});
  ActionGraph g = f.graph();
  auto defs = definition_hashes(f.model);
  std::vector<Hash128> fps(g.size(), Hash128{1, 2});
  KeyParts k1 = action_key(g, defs, 1, fps, {});
  fps[0] = Hash128{3, 4};
  KeyParts k2 = action_key(g, defs, 1, fps, {});
  CHECK(k1.definition == k2.definition);
  CHECK(k1.input_set == k2.input_set);
  CHECK(k1.key != k2.key);
}

}  // namespace
}  // namespace dbuild
