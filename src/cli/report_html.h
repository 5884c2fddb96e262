#pragma once
/// The report page of `dbuild report` and `dbuild serve` (docs/report.md): plain values in,
/// one self-contained HTML document out.
///
/// Contract: the page fetches nothing (no CDN, no fonts, no images by URL): CSS, the graph's
/// SVG and the optional refresh script are inline, so the file opens anywhere, offline. Every
/// string that comes from the workspace, the state or a log goes through html_escape(). The
/// graph's layout is computed here, in C++ (layered_layout), so the page needs no script to
/// draw. The `<table id="counts">` holds one row per dataset with a `data-state` attribute on
/// each count cell: the same numbers as `dbuild status --json`, for machines to compare.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/key_type.h"

namespace dbuild::report {

/// `&`, `<`, `>`, `"` and `'` as entities; text and attribute values both.
std::string html_escape(std::string_view text);

/// Where a node of the layered layout sits: its layer (column) and its rank within the layer.
struct NodePlace {
  int layer = 0;
  int rank = 0;
};

/// Longest-path layering in topological order (a node sits one layer right of its deepest
/// input), then a few barycentre sweeps order each layer by the mean rank of the node's inputs.
/// `inputs[v]` lists the nodes v reads. Nodes on a cycle (never in a checked model) go to
/// layer 0 rather than looping.
std::vector<NodePlace> layered_layout(const std::vector<std::vector<size_t>>& inputs);

/// The state of one partition as the page colours it.
enum class CellState { kUpToDate, kStale, kFailed, kMissing, kWaiting };
/// up_to_date, stale, failed, missing, waiting: the CSS class and data-state value.
const char* cell_state_code(CellState s);

struct Cell {
  std::string partition;  // text form, "" when unpartitioned
  CellState state = CellState::kMissing;
  std::string reason;     // the hover text: "stale: input changed"
};

/// A dataset with the counts `dbuild status` prints and its partitions' cells.
struct DatasetView {
  std::string name;
  bool source = false;
  std::vector<KeyType> keys;  // empty: unpartitioned
  std::vector<size_t> inputs; // indices into ReportData::datasets
  size_t total = 0, up_to_date = 0, stale = 0, missing = 0, failed = 0;
  std::vector<Cell> cells;
};

struct RunView {
  uint64_t run_id = 0;
  std::string started;   // local time
  int64_t took_ms = -1;  // -1: never finished
  std::string outcome;   // ok, failed, interrupted (SIGINT), unfinished
  std::string command;
  uint64_t ran = 0, up_to_date = 0, cut_off = 0, failed = 0;
};

struct FailureView {
  std::string label;  // dataset@partition
  std::string error;  // the first line of the log
  std::string log;    // the whole last log
};

struct ReportData {
  std::string workspace;  // the workspace's directory
  std::vector<DatasetView> datasets;
  std::vector<RunView> runs;  // newest first
  std::vector<FailureView> failures;
  uint64_t latest_run = 0;    // 0: nothing was run yet
  bool live = false;          // served: poll /version and reload on a new run
};

/// The whole page.
std::string render_page(const ReportData& data);

}  // namespace dbuild::report
