#pragma once
/// Verification: does every recorded partition's data still match the fingerprint it was
/// recorded with? It proves invariant 1 of docs/architecture.md after the fact, and finds outputs
/// changed outside dbuild.
#include <string>
#include <vector>

#include "eval/engines.h"
#include "graph/action_graph.h"
#include "state/state_store.h"

namespace dbuild::exec {

/// One partition whose data does not match its record.
struct Mismatch {
  std::string label;    // dataset@partition
  std::string problem;  // "output table missing", "rows changed (recorded 10, found 9)"...
  /// True for a partition a killed build was writing: its record claims nothing (it is stale
  /// until rebuilt), so this is a note, not a mismatch.
  bool interrupted = false;
};

/// Recomputes the fingerprint of every recorded partition of the graph's tables and file
/// sources in the warehouse and compares it with the record. A damaged record is a mismatch.
Result<std::vector<Mismatch>> verify_outputs(const ActionGraph& g, const StateStore& store,
                                             const Engines& engines, size_t* checked);

}  // namespace dbuild::exec
