#pragma once
/// Lists the partitions of table sources from the SQLite warehouse.
#include <memory>
#include <string>

#include "exec/sqlite_engine.h"
#include "graph/action_graph.h"

namespace dbuild::exec {

class EngineLister : public SourceLister {
 public:
  explicit EngineLister(std::string warehouse) : warehouse_(std::move(warehouse)) {}
  Result<std::vector<std::vector<std::string>>> list_table_partitions(const Dataset& ds) override;

 private:
  std::string warehouse_;
  std::unique_ptr<SqliteEngine> engine_;  // opened on first use
};

}  // namespace dbuild::exec
