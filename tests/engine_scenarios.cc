#include "engine_scenarios.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <vector>

#include "test_util.h"

namespace dbuild::testing {
namespace {

using json = nlohmann::json;

/// Portable SQL: it means the same on SQLite, PostgreSQL and ClickHouse.
std::string rules(const std::string& header, const std::string& totals_sql) {
  return header +
         "source orders { path = \"data/{day}.csv\"  format = shop_csv  partition day: date }\n"
         "format shop_csv { kind = csv  columns { product: string  amount: int } }\n"
         "table totals {\n  partition day: date\n  sql \"\"\"\n" + totals_sql + "\n  \"\"\"\n"
         "  check not_null(product)\n"
         "  check \"no negative total\" sql \"SELECT product FROM totals WHERE total < 0\"\n}\n"
         "table best {\n  sql \"\"\"\n    SELECT product, sum(total) AS total FROM totals GROUP BY product\n  \"\"\"\n}\n";
}

const char* kTotals = "    SELECT product, sum(amount) AS total FROM orders GROUP BY product";

struct Workspace {
  TempDir dir;
  DbuildIn dbuild{dir.path()};
  std::string env;
  std::string printed;  // everything dbuild printed

  json build() {
    std::string out = dbuild.run("build --json", env);
    printed += out + dbuild.err;
    try {
      return json::parse(out);
    } catch (const json::exception&) {
      FAIL("build --json printed no JSON; stderr: " << dbuild.err);
      return json();
    }
  }
};

/// Every file under `dir` that contains `secret`.
std::vector<std::string> files_containing(const std::string& dir, const std::string& secret) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file() && slurp(e.path().string()).find(secret) != std::string::npos)
      out.push_back(e.path().string());
  return out;
}

}  // namespace

void run_engine_scenarios(const std::string& header, const std::string& env, const std::string& secret) {
  Workspace w;
  w.env = env;
  w.dir.write("workspace.dbuild", rules(header, kTotals));
  w.dir.write("data/2024-01-01.csv", "product,amount\napple,3\npear,4\napple,5\n");
  w.dir.write("data/2024-01-02.csv", "product,amount\npear,1\n");
  w.dir.write("data/2024-01-03.csv", "product,amount\nfig,7\n");

  // A first build computes everything.
  json b = w.build();
  REQUIRE_MESSAGE(w.dbuild.code == 0, w.dbuild.err);
  CHECK(with_result(b, "ran").size() == 7);
  w.dbuild.run("verify", env);
  CHECK_MESSAGE(w.dbuild.code == 0, w.dbuild.err);

  // Nothing changed: nothing runs, and plan agrees.
  b = w.build();
  CHECK(with_result(b, "ran").empty());
  w.dbuild.run("plan --exit-code", env);
  CHECK_MESSAGE(w.dbuild.code == 0, w.dbuild.err);

  // One file changed: its source partition, its totals partition and `best` run.
  w.dir.write("data/2024-01-02.csv", "product,amount\npear,2\n");
  b = w.build();
  CHECK(with_result(b, "ran") == std::set<std::string>{"orders@2024-01-02", "totals@2024-01-02", "best"});

  // The same rows in another order: the source reloads, nothing below it runs (early cutoff).
  w.dir.write("data/2024-01-01.csv", "product,amount\napple,5\npear,4\napple,3\n");
  b = w.build();
  CHECK(with_result(b, "ran") == std::set<std::string>{"orders@2024-01-01"});

  // A formatting edit of the query recomputes nothing.
  w.dir.write("workspace.dbuild",
              rules(header, "    SELECT product,\n           sum(amount) AS total   -- per product\n"
                            "    FROM orders\n    GROUP BY product"));
  b = w.build();
  CHECK(with_result(b, "ran").empty());

  // A query edited: every partition of its table reruns; `best` reruns only if its input
  // changed (here the totals double, so it does).
  w.dir.write("workspace.dbuild",
              rules(header, "    SELECT product, sum(amount) * 2 AS total FROM orders GROUP BY product"));
  b = w.build();
  CHECK(with_result(b, "ran") ==
        std::set<std::string>{"totals@2024-01-01", "totals@2024-01-02", "totals@2024-01-03", "best"});

  // A failing partition keeps its old data and record; the others build.
  w.dir.write("data/2024-01-03.csv", "product,amount\nfig,-9\n");
  b = w.build();
  CHECK(w.dbuild.code == 1);
  CHECK(with_result(b, "failed") == std::set<std::string>{"totals@2024-01-03"});
  CHECK(w.dbuild.err.find("no negative total") != std::string::npos);
  w.dbuild.run("verify", env);
  CHECK_MESSAGE(w.dbuild.code == 0, w.dbuild.err);  // the old data is still what was recorded
  // Fixed: it builds, and the pipeline is up to date.
  w.dir.write("data/2024-01-03.csv", "product,amount\nfig,9\n");
  b = w.build();
  CHECK_MESSAGE(w.dbuild.code == 0, w.dbuild.err);
  CHECK(with_result(b, "ran") == std::set<std::string>{"orders@2024-01-03", "totals@2024-01-03", "best"});
  w.dbuild.run("plan --exit-code", env);
  CHECK_MESSAGE(w.dbuild.code == 0, w.dbuild.err);
  w.printed += w.dbuild.run("log totals@2024-01-03", env) + w.dbuild.err;
  w.printed += w.dbuild.run("history --json", env) + w.dbuild.err;
  w.printed += w.dbuild.run("status --json", env) + w.dbuild.err;
  if (!secret.empty()) {
    CHECK(w.printed.find(secret) == std::string::npos);
    CHECK(files_containing(w.dir.path() + "/.dbuild", secret).empty());
  }
}

}  // namespace dbuild::testing
