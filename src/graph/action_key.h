#pragma once
/// Action keys (docs/architecture.md, Invariants): a 128-bit XXH3 hash of
///   - the rule's definition, with its query normalized (comments and whitespace do not count),
///     the engine identity and the values of the variables its templates use;
///   - the partition it writes (the template values that depend on it);
///   - each input partition it reads: dataset, partition and fingerprint.
/// The definition and the identity of the input set are kept apart as KeyParts so that the
/// same code that decides staleness can say why (definition changed, inputs added or removed,
/// an input changed): there is no second implementation.
#include <span>
#include <vector>

#include "base/hash.h"
#include "graph/action_graph.h"

namespace dbuild {

struct KeyParts {
  Hash128 definition;  // of the dataset's rule (same for all its partitions)
  Hash128 input_set;   // which partitions are read (not their content)
  Hash128 key;         // everything: definition, partition, inputs and their fingerprints
};

/// The definition hash of every dataset, indexed by DatasetId.
std::vector<Hash128> definition_hashes(const Model& model);

/// The key of action `a`. Per action (only `a` and its inputs are read):
///   - `fingerprints`: its output's fingerprint as SQL reads it (rows as a multiset);
///   - `byte_hashes`: the content hash of its file — a file source's file, a command table's
///     output file — and zero for other actions.
/// Each consumer sees the fingerprint of what it reads: a command table reads files, where
/// line order counts, so its file-source and command-table inputs count by their bytes; every
/// other input, and every input of a SQL table, counts by its rows. A file source's own key
/// includes its file's bytes.
KeyParts action_key(const ActionGraph& g, const std::vector<Hash128>& definitions, ActionId a,
                    std::span<const Hash128> fingerprints, std::span<const Hash128> byte_hashes);

/// The names of the variables a dataset's templates use.
std::vector<std::string> variables_used(const Model& model, const Dataset& ds);

}  // namespace dbuild
