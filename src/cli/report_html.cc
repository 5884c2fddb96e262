#include "cli/report_html.h"

#include <algorithm>
#include <map>
#include <numeric>

#include <fmt/format.h>

namespace dbuild::report {
namespace {

// The graph's geometry in SVG units: nodes flow left to right, one column per layer.
constexpr int kNodeWidth = 210, kNodeHeight = 46, kLayerGap = 70, kRankGap = 18, kMargin = 10;

std::string e(std::string_view text) { return html_escape(text); }

/// A dataset's colour in the graph: failed wins, then never built, then stale.
const char* dataset_state(const DatasetView& d) {
  if (d.failed) return "failed";
  if (d.total == 0 || d.missing == d.total) return "never_built";
  if (d.stale || d.missing) return "stale";
  return "up_to_date";
}

/// Ranks each layer by the mean rank of the node's inputs; nodes without inputs keep theirs.
void barycentre_sweep(std::vector<std::vector<size_t>>& layers, std::vector<NodePlace>& places,
                      const std::vector<std::vector<size_t>>& inputs) {
  for (size_t l = 1; l < layers.size(); ++l) {
    std::vector<std::pair<double, size_t>> keyed;
    for (size_t v : layers[l]) {
      double sum = 0;
      for (size_t u : inputs[v]) sum += places[u].rank;
      double key = inputs[v].empty() ? places[v].rank : sum / static_cast<double>(inputs[v].size());
      keyed.emplace_back(key, v);
    }
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < keyed.size(); ++i) {
      layers[l][i] = keyed[i].second;
      places[keyed[i].second].rank = static_cast<int>(i);
    }
  }
}

/// Year, month and day of an ISO date text ("1995-07-14..."); false when it is not one.
bool parse_ymd(std::string_view t, int& y, int& m, int& d) {
  if (t.size() < 10 || t[4] != '-' || t[7] != '-') return false;
  auto num = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) v = v * 10 + (t[i] - '0');
    return v;
  };
  y = num(0, 4), m = num(5, 2), d = num(8, 2);
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/// 0 = Monday ... 6 = Sunday (days-from-civil, proleptic Gregorian).
int weekday(int y, int m, int d) {
  y -= m <= 2;
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  long days = static_cast<long>(era) * 146097 + doe - 719468;  // 0 = 1970-01-01, a Thursday
  return static_cast<int>(((days % 7) + 7 + 3) % 7);
}

std::string cell_html(const Cell& c, std::string_view text) {
  return fmt::format("<span class=\"c {0}\" data-state=\"{0}\" title=\"{1}\">{2}</span>",
                     cell_state_code(c.state), e(c.reason), e(text));
}

/// Groups cells by a prefix of their partition text (month of a day, day of an hour...).
std::map<std::string, std::vector<const Cell*>> group_by_prefix(const std::vector<Cell>& cells, size_t n) {
  std::map<std::string, std::vector<const Cell*>> groups;
  for (const auto& c : cells) groups[c.partition.substr(0, n)].push_back(&c);
  return groups;
}

/// Days: one block per month, seven columns from Monday, blanks before the first weekday.
std::string date_calendar(const std::vector<Cell>& cells) {
  std::string out;
  for (const auto& [month, days] : group_by_prefix(cells, 7)) {
    out += fmt::format("<div class=\"month\"><div class=\"mname\">{}</div><div class=\"grid g7\">", e(month));
    for (const char* w : {"Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"}) out += fmt::format("<span class=\"wd\">{}</span>", w);
    int y, m, d;
    if (parse_ymd(month + "-01", y, m, d))
      for (int i = 0; i < weekday(y, m, 1); ++i) out += "<span class=\"blank\"></span>";
    int next = 1;  // days missing from the graph stay blank, so the columns stay weekdays
    for (const Cell* c : days) {
      if (!parse_ymd(c->partition, y, m, d)) continue;
      for (; next < d; ++next) out += "<span class=\"blank\"></span>";
      out += cell_html(*c, std::to_string(d));
      next = d + 1;
    }
    out += "</div></div>";
  }
  return out;
}

/// Months (one row of twelve per year) or hours (one row of 24 per day).
std::string row_calendar(const std::vector<Cell>& cells, size_t prefix, size_t columns, int first) {
  std::string out;
  for (const auto& [row, members] : group_by_prefix(cells, prefix)) {
    out += fmt::format("<div class=\"month\"><div class=\"mname\">{}</div><div class=\"grid g{}\">", e(row), columns);
    int next = first;
    for (const Cell* c : members) {
      std::string tail = c->partition.size() > prefix + 1 ? c->partition.substr(prefix + 1) : "";
      int at = std::atoi(tail.c_str());
      for (; next < at && next < first + static_cast<int>(columns); ++next) out += "<span class=\"blank\"></span>";
      out += cell_html(*c, tail);
      next = at + 1;
    }
    out += "</div></div>";
  }
  return out;
}

std::string calendar(const DatasetView& d) {
  if (d.keys.size() == 1 && d.keys[0] == KeyType::Date) return date_calendar(d.cells);
  if (d.keys.size() == 1 && d.keys[0] == KeyType::Month) return row_calendar(d.cells, 4, 12, 1);
  if (d.keys.size() == 1 && d.keys[0] == KeyType::Hour) return row_calendar(d.cells, 10, 24, 0);
  std::string out = "<div class=\"list\">";
  for (const auto& c : d.cells) out += cell_html(c, c.partition.empty() ? d.name : c.partition);
  return out + "</div>";
}

std::string graph_svg(const ReportData& data) {
  std::vector<std::vector<size_t>> inputs;
  for (const auto& d : data.datasets) inputs.push_back(d.inputs);
  auto places = layered_layout(inputs);
  int layers = 0, ranks = 0;
  for (const auto& p : places) layers = std::max(layers, p.layer + 1), ranks = std::max(ranks, p.rank + 1);
  auto x = [&](size_t v) { return kMargin + places[v].layer * (kNodeWidth + kLayerGap); };
  auto y = [&](size_t v) { return kMargin + places[v].rank * (kNodeHeight + kRankGap); };
  int width = 2 * kMargin + layers * kNodeWidth + std::max(0, layers - 1) * kLayerGap;
  int height = 2 * kMargin + ranks * kNodeHeight + std::max(0, ranks - 1) * kRankGap;
  std::string out = fmt::format(
      "<svg id=\"graph\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\">"
      "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" "
      "markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#667\"/></marker></defs>",
      width, height);
  for (size_t v = 0; v < data.datasets.size(); ++v)
    for (size_t u : data.datasets[v].inputs) {
      int x1 = x(u) + kNodeWidth, y1 = y(u) + kNodeHeight / 2, x2 = x(v), y2 = y(v) + kNodeHeight / 2;
      int mid = (x1 + x2) / 2;
      out += fmt::format("<path class=\"edge\" d=\"M{},{} C{},{} {},{} {},{}\" marker-end=\"url(#arrow)\"/>", x1, y1,
                         mid, y1, mid, y2, x2, y2);
    }
  for (size_t v = 0; v < data.datasets.size(); ++v) {
    const DatasetView& d = data.datasets[v];
    out += fmt::format(
        "<g class=\"node\" data-dataset=\"{0}\" data-layer=\"{5}\" data-rank=\"{6}\"><title>{0}: {7}</title>"
        "<rect class=\"n {1}\" x=\"{2}\" y=\"{3}\" width=\"{4}\" height=\"{8}\" rx=\"6\"/>"
        "<text x=\"{9}\" y=\"{10}\" class=\"name\">{0}</text><text x=\"{9}\" y=\"{11}\" class=\"sub\">{12}</text></g>",
        e(d.name), dataset_state(d), x(v), y(v), kNodeWidth, places[v].layer, places[v].rank,
        dataset_state(d), kNodeHeight, x(v) + 8, y(v) + 19, y(v) + 36,
        e(fmt::format("{}{} of {} up to date", d.source ? "source · " : "", d.up_to_date, d.total)));
  }
  return out + "</svg>";
}

std::string counts_table(const ReportData& data) {
  std::string out =
      "<table id=\"counts\"><tr><th>dataset</th><th>partitions</th><th>up to date</th><th>stale</th>"
      "<th>missing</th><th>failed</th></tr>";
  for (const auto& d : data.datasets)
    out += fmt::format(
        "<tr data-dataset=\"{0}\"><td>{0}</td><td data-state=\"partitions\">{1}</td>"
        "<td data-state=\"up_to_date\">{2}</td><td data-state=\"stale\">{3}</td>"
        "<td data-state=\"missing\">{4}</td><td data-state=\"failed\">{5}</td></tr>",
        e(d.name), d.total, d.up_to_date, d.stale, d.missing, d.failed);
  return out + "</table>";
}

std::string runs_table(const ReportData& data) {
  if (data.runs.empty()) return "<p>No runs yet.</p>";
  std::string out =
      "<table id=\"runs\"><tr><th>run</th><th>started</th><th>took</th><th>outcome</th><th>ran</th>"
      "<th>up to date</th><th>cut off</th><th>failed</th><th>command</th></tr>";
  for (const auto& r : data.runs)
    out += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"o-{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td><code>{}</code></td></tr>",
        r.run_id, e(r.started), r.took_ms < 0 ? "-" : fmt::format("{:.2f}s", static_cast<double>(r.took_ms) / 1000.0),
        r.outcome == "ok" ? "ok" : "bad", e(r.outcome), r.ran, r.up_to_date, r.cut_off, r.failed, e(r.command));
  return out + "</table>";
}

std::string failures_html(const ReportData& data) {
  if (data.failures.empty()) return "<p>No failed partitions.</p>";
  std::string out = "<div id=\"failures\">";
  for (const auto& f : data.failures)
    out += fmt::format("<details class=\"failure\"><summary><b>{}</b>: {}</summary><pre>{}</pre></details>",
                       e(f.label), e(f.error), e(f.log));
  return out + "</div>";
}

constexpr const char* kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#223;background:#fafafc}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse}td,th{border:1px solid #ccd;padding:3px 8px;text-align:left}
td[data-state]{text-align:right}
.edge{fill:none;stroke:#667;stroke-width:1.5}
.n{stroke:#334;stroke-width:1}.name{font-weight:600;font-size:13px}.sub{font-size:11px;fill:#334}
.n.up_to_date,.c.up_to_date{fill:#b7e4b5;background:#b7e4b5}
.n.stale,.c.stale{fill:#f6d98b;background:#f6d98b}
.n.failed,.c.failed{fill:#f2a3a3;background:#f2a3a3}
.n.never_built,.c.missing{fill:#dde;background:#dde}
.c.waiting{background:repeating-linear-gradient(45deg,#f6d98b,#f6d98b 3px,#dde 3px,#dde 6px)}
.ds{margin:10px 0}.month{display:inline-block;vertical-align:top;margin:0 14px 10px 0}
.mname{font-size:12px;font-weight:600}.grid{display:grid;gap:2px}
.g7{grid-template-columns:repeat(7,24px)}.g12{grid-template-columns:repeat(12,24px)}
.g24{grid-template-columns:repeat(24,20px)}
.c,.blank,.wd{height:20px;font-size:10px;text-align:center;line-height:20px;border-radius:3px}
.wd{color:#889}.list .c{display:inline-block;padding:0 6px;margin:2px}
.legend .c{display:inline-block;padding:0 6px;margin-right:6px}
.o-bad{color:#a00}pre{background:#fff;border:1px solid #ccd;padding:8px;overflow:auto;max-height:300px}
)";

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<NodePlace> layered_layout(const std::vector<std::vector<size_t>>& raw_inputs) {
  size_t n = raw_inputs.size();
  std::vector<std::vector<size_t>> inputs(n), outputs(n);
  for (size_t v = 0; v < n; ++v) {
    inputs[v] = raw_inputs[v];
    std::sort(inputs[v].begin(), inputs[v].end());
    inputs[v].erase(std::unique(inputs[v].begin(), inputs[v].end()), inputs[v].end());
    std::erase_if(inputs[v], [&](size_t u) { return u >= n || u == v; });
    for (size_t u : inputs[v]) outputs[u].push_back(v);
  }
  // Kahn's order: a node is placed once all its inputs are, one layer right of the deepest.
  std::vector<size_t> pending(n), order;
  for (size_t v = 0; v < n; ++v) {
    pending[v] = inputs[v].size();
    if (!pending[v]) order.push_back(v);
  }
  std::vector<NodePlace> places(n);
  for (size_t i = 0; i < order.size(); ++i)
    for (size_t w : outputs[order[i]]) {
      places[w].layer = std::max(places[w].layer, places[order[i]].layer + 1);
      if (--pending[w] == 0) order.push_back(w);
    }
  std::vector<uint8_t> placed(n, 0);
  for (size_t v : order) placed[v] = 1;
  for (size_t v = 0; v < n; ++v)
    if (!placed[v]) places[v].layer = 0, order.push_back(v);
  std::vector<std::vector<size_t>> layers;
  for (size_t v : order) {
    size_t l = static_cast<size_t>(places[v].layer);
    if (layers.size() <= l) layers.resize(l + 1);
    places[v].rank = static_cast<int>(layers[l].size());
    layers[l].push_back(v);
  }
  for (int sweep = 0; sweep < 4; ++sweep) barycentre_sweep(layers, places, inputs);
  return places;
}

const char* cell_state_code(CellState s) {
  switch (s) {
    case CellState::kUpToDate: return "up_to_date";
    case CellState::kStale: return "stale";
    case CellState::kFailed: return "failed";
    case CellState::kMissing: return "missing";
    case CellState::kWaiting: return "waiting";
  }
  return "missing";
}

std::string render_page(const ReportData& data) {
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>dbuild report: {}</title>"
      "<style>{}</style></head><body data-run=\"{}\">\n<h1>dbuild report: {}</h1>\n",
      e(data.workspace), kStyle, data.latest_run, e(data.workspace));
  out += "<h2>Datasets</h2>\n" + graph_svg(data) + "\n" + counts_table(data) + "\n";
  out += "<h2>Partitions</h2>\n<p class=\"legend\">";
  for (auto s : {CellState::kUpToDate, CellState::kStale, CellState::kFailed, CellState::kMissing, CellState::kWaiting})
    out += fmt::format("<span class=\"c {0}\">{0}</span>", cell_state_code(s));
  out += "</p>\n";
  for (const auto& d : data.datasets)
    out += fmt::format("<div class=\"ds\" data-dataset=\"{0}\"><h3>{0}</h3>{1}</div>\n", e(d.name), calendar(d));
  out += "<h2>Failed partitions</h2>\n" + failures_html(data) + "\n";
  out += "<h2>Last runs</h2>\n" + runs_table(data) + "\n";
  if (data.live)
    out += fmt::format(
        "<script>(function(){{var run={};setInterval(function(){{fetch('/version',{{cache:'no-store'}})"
        ".then(function(r){{return r.json();}}).then(function(v){{if(v.run!==run)location.reload();}})"
        ".catch(function(){{}});}},2000);}})();</script>\n",
        data.latest_run);
  return out + "</body></html>\n";
}

}  // namespace dbuild::report
