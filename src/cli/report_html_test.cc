#include "cli/report_html.h"

#include <set>

#include <doctest/doctest.h>

namespace dbuild::report {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_CASE("report: html_escape turns the five special characters into entities") {
  CHECK(html_escape("a<b>&\"c\"'d'") == "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  CHECK(html_escape("plain text, 1995-07-14") == "plain text, 1995-07-14");
  CHECK(html_escape("&amp;") == "&amp;amp;");
}

TEST_CASE("report: the layered layout puts every node right of its inputs, one node per place") {
  // 0 -> 1 -> 3, 0 -> 2 -> 3, 4 -> 3, 5 alone, 1 -> 6; 2 is listed twice and 3 reads itself.
  std::vector<std::vector<size_t>> inputs = {{}, {0}, {0, 0}, {1, 2, 4, 3}, {}, {}, {1}};
  auto places = layered_layout(inputs);
  REQUIRE(places.size() == inputs.size());
  for (size_t v = 0; v < inputs.size(); ++v)
    for (size_t u : inputs[v])
      if (u != v) CHECK(places[u].layer < places[v].layer);
  CHECK(places[0].layer == 0);
  CHECK(places[1].layer == 1);
  CHECK(places[3].layer == 2);  // longest path: 0 -> 1 -> 3
  std::set<std::pair<int, int>> taken;
  for (const auto& p : places) CHECK(taken.insert({p.layer, p.rank}).second);
  // Ranks of a layer are dense from 0, so no node sits beyond its layer's column.
  std::vector<int> per_layer(3, 0);
  for (const auto& p : places) per_layer.at(static_cast<size_t>(p.layer))++;
  for (const auto& p : places) CHECK(p.rank < per_layer[static_cast<size_t>(p.layer)]);
}

TEST_CASE("report: barycentre ordering puts a node near the mean rank of its inputs") {
  // Sources 0 and 1; 2 reads 1 only, 3 reads both. Discovery order lists 2 first, but 3's
  // inputs average rank 0.5 and 2's rank 1, so 3 goes above 2.
  std::vector<std::vector<size_t>> inputs = {{}, {}, {1}, {0, 1}};
  auto places = layered_layout(inputs);
  CHECK(places[3].layer == 1);
  CHECK(places[2].layer == 1);
  CHECK(places[3].rank < places[2].rank);
}

TEST_CASE("report: a cycle ends the layering instead of looping") {
  auto places = layered_layout({{1}, {0}});
  CHECK(places[0].layer == 0);
  CHECK(places[1].layer == 0);
  CHECK(places[0].rank != places[1].rank);
}

ReportData hostile_data() {
  ReportData d;
  d.workspace = "/ws/<b>";
  DatasetView v;
  v.name = "t<script>alert(1)</script>";
  v.keys = {KeyType::Date};
  v.total = 3, v.up_to_date = 1, v.failed = 1, v.missing = 1;
  v.cells = {{"1995-07-01", CellState::kUpToDate, "1995-07-01: up to date"},
             {"1995-07-02", CellState::kFailed, "1995-07-02: stale: \"last run failed\" <now>"},
             {"1995-07-04", CellState::kMissing, "1995-07-04: stale: never built"}};
  d.datasets.push_back(v);
  d.runs.push_back({7, "1995-07-01 00:00:00", 1500, "failed", "dbuild build '<x>'", 2, 0, 0, 1});
  d.failures.push_back({"t@1995-07-02", "near \"<\": syntax error", "line 1 <img src=x onerror=alert(1)>"});
  d.latest_run = 7;
  return d;
}

TEST_CASE("report: every dynamic string of the page is escaped and nothing is fetched") {
  std::string page = render_page(hostile_data());
  CHECK(page.find("<script>alert") == std::string::npos);
  CHECK(page.find("<img") == std::string::npos);
  CHECK(page.find("t&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(page.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
  CHECK(page.find("title=\"1995-07-02: stale: &quot;last run failed&quot; &lt;now&gt;\"") != std::string::npos);
  CHECK(page.find("dbuild build &#39;&lt;x&gt;&#39;") != std::string::npos);
  CHECK(page.find("http://") == std::string::npos);
  CHECK(page.find("https://") == std::string::npos);
  CHECK(page.find("<script") == std::string::npos);  // a written file does not poll
  ReportData live = hostile_data();
  live.live = true;
  std::string served = render_page(live);
  CHECK(count(served, "<script>") == 1);
  CHECK(served.find("fetch('/version'") != std::string::npos);
  CHECK(served.find("var run=7;") != std::string::npos);
}

TEST_CASE("report: the counts table and the day calendar carry the states") {
  std::string page = render_page(hostile_data());
  CHECK(page.find("<td data-state=\"up_to_date\">1</td><td data-state=\"stale\">0</td>"
                  "<td data-state=\"missing\">1</td><td data-state=\"failed\">1</td>") != std::string::npos);
  // 1995-07-01 was a Saturday: five blank cells (Monday to Friday) come before it, and the
  // missing 1995-07-03 keeps a blank so that the 4th stays under Tuesday.
  size_t grid = page.find("<div class=\"grid g7\">");
  REQUIRE(grid != std::string::npos);
  size_t first = page.find("<span class=\"c ", grid);
  CHECK(count(page.substr(grid, first - grid), "class=\"blank\"") == 5);
  size_t third = page.find(">4</span>", grid);
  size_t second = page.find(">2</span>", grid);
  REQUIRE(third != std::string::npos);
  CHECK(count(page.substr(second, third - second), "class=\"blank\"") == 1);
  CHECK(page.find("class=\"c failed\" data-state=\"failed\"") != std::string::npos);
  CHECK(page.find("<rect class=\"n failed\"") != std::string::npos);  // any failure colours the node
}

}  // namespace
}  // namespace dbuild::report
