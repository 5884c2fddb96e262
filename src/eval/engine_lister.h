#pragma once
/// Lists the partitions of table sources from their engines. Rows whose key is NULL are
/// left out with a warning naming the table, the column and how many rows.
#include <memory>
#include <string>

#include "eval/engines.h"
#include "graph/action_graph.h"

namespace dbuild::exec {

/// The SourceLister of a pipeline's engines; opens sessions on first use.
class EngineLister : public SourceLister {
 public:
  /// REQUIRES: `engines` and `model` outlive the lister.
  EngineLister(const Engines& engines, const Model& model) : engines_(engines), model_(model), sessions_(engines) {}
  Result<ListedPartitions> list_table_partitions(const Dataset& ds) override;

 private:
  const Engines& engines_;
  const Model& model_;
  EngineSessions sessions_;
};

}  // namespace dbuild::exec
