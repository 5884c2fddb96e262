#pragma once
/// `dbuild test`: runs a table's query on fixture rows and compares the result with the
/// expected rows, as multisets, on a scratch session of the table's engine (fixtures are
/// private to it and shadow stored tables; nothing is stored).
///
/// Fixture cells are typed like a CSV sniffer would: integers and reals become numbers, `NULL`
/// is NULL, anything else is text. Expected rows are compared on the expected columns only;
/// numbers compare by value (1.0 equals 1). The query runs for one partition: the test's
/// `partition = "..."`, or the single value of the key columns in the given rows.
#include <string>
#include <vector>

#include "eval/engines.h"
#include "graph/partitions.h"
#include "model/model.h"

namespace dbuild::exec {

struct TestOutcome {
  std::string table;
  std::string name;
  bool passed = false;
  std::string detail;  // why it failed: an error, or the rows missing and unexpected
};

/// Runs the tests of `ds` on its engine.
std::vector<TestOutcome> run_tests(const Model& model, const Dataset& ds, const Engines& engines);

}  // namespace dbuild::exec
