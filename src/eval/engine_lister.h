#pragma once
/// Lists the partitions of table sources from the SQLite warehouse. Rows whose key is NULL are
/// left out with a warning naming the table, the column and how many rows.
#include <memory>
#include <string>

#include "engine/sqlite/sqlite_engine.h"
#include "graph/action_graph.h"

namespace dbuild::exec {

/// The SourceLister of the embedded warehouse; opens it on first use.
class EngineLister : public SourceLister {
 public:
  explicit EngineLister(std::string warehouse) : warehouse_(std::move(warehouse)) {}
  Result<ListedPartitions> list_table_partitions(const Dataset& ds) override;

 private:
  std::string warehouse_;
  std::unique_ptr<SqliteEngine> engine_;  // opened on first use
};

}  // namespace dbuild::exec
