#pragma once
/// The action graph: one action per (dataset, partition), with dense ids and the input
/// partitions each action reads. Actions of one dataset have consecutive ids, in partition
/// order, and datasets come in the model's topological order, so an action's inputs always
/// have smaller ids. Immutable once built; safe to read from many threads.
///
/// Actions of file sources load one file; actions of table sources compute nothing (their
/// data already exists) but have fingerprints like any other partition.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "graph/grouping.h"
#include "graph/partitions.h"
#include "model/model.h"

namespace dbuild {

using ActionId = uint32_t;

/// The partitions of one table source, as its engine lists them.
struct ListedPartitions {
  /// Distinct key tuples, each as one raw value per key (a string value as it is stored, not
  /// in the escaped text form). Never NULL: rows with a NULL key belong to no partition.
  std::vector<std::vector<std::string>> tuples;
  /// What was left out and why (rows with NULL keys), one message each, for the user.
  std::vector<std::string> warnings;
};

/// Lists the partitions of existing tables (table sources). The engine implements it;
/// tests fake it.
class SourceLister {
 public:
  virtual ~SourceLister() = default;
  virtual Result<ListedPartitions> list_table_partitions(const Dataset& ds) = 0;
};

struct ActionGraph {
  const Model* model = nullptr;
  StringPool pool;
  std::vector<PartitionList> partitions;        // per dataset
  std::vector<std::vector<std::string>> files;  // per dataset (file sources): path per partition
  std::vector<ActionId> first_action;           // per dataset, then the total action count
  std::vector<uint64_t> input_begin;            // per action, then the total edge count
  std::vector<ActionId> inputs;                 // per action: grouped by input dataset
  std::vector<std::string> warnings;            // files and rows skipped during discovery
  /// Per dataset: a grouped table's groups (graph/grouping.h), the open one included; only
  /// closed groups are partitions.
  std::vector<std::vector<Group>> groups;

  size_t size() const { return first_action.empty() ? 0 : first_action.back(); }
  DatasetId dataset_of(ActionId a) const;
  size_t partition_of(ActionId a) const { return a - first_action[dataset_of(a)]; }
  std::span<const int64_t> tuple_of(ActionId a) const {
    return partitions[dataset_of(a)].at(partition_of(a));
  }
  std::span<const ActionId> inputs_of(ActionId a) const {
    return std::span<const ActionId>(inputs.data() + input_begin[a], input_begin[a + 1] - input_begin[a]);
  }
  /// The partition's text form (what users type after `@`).
  std::string partition_text(ActionId a) const;
  /// `dataset@partition`, or `dataset` when unpartitioned (`dataset@` is the partition whose
  /// one string key is empty).
  std::string label(ActionId a) const;
  /// The action of dataset `d`'s partition `tuple`, if it exists.
  std::optional<ActionId> find(DatasetId d, std::span<const int64_t> tuple) const;
};

/// Expands every dataset into its partitions and connects each action to its inputs.
/// File sources are discovered under `root`; table sources are listed by `lister`. Grouped
/// tables extend the groups recorded in `book` (none recorded when null) and apply its flush.
Result<ActionGraph> build_action_graph(const Model& model, SourceLister& lister, const GroupBook* book = nullptr);

}  // namespace dbuild
