#pragma once
/// Checks input mappings and infers the ones not written. See MapTerm in model.h.
#include "base/diagnostic.h"
#include "model/model.h"

namespace dbuild {

/// The largest shift a mapping term may apply, in steps of its key (a million days is
/// 2,700 years; a million hours, 114 years): beyond it a term is a typo, not a pipeline.
inline constexpr int64_t kMaxShift = 1'000'000;
/// The most partitions one window may read.
inline constexpr int64_t kMaxWindow = 100'000;

/// Converts one written mapping term to a MapTerm. `in_key` is the input key it selects.
/// Returns nothing (and reports) when the term is invalid.
std::optional<MapTerm> check_map_term(const ast::Expr& e, const PartitionKeyDef& in_key,
                                      const std::vector<PartitionKeyDef>& out_keys,
                                      Diagnostics& diags);

/// Infers terms for an input without a written mapping; reports why it cannot.
bool infer_mapping(const Dataset& out, const Dataset& in, Span at, std::vector<MapTerm>& terms,
                   Diagnostics& diags);

/// Whether a term determines an output key's values (all but `*` and literals).
bool term_determines_key(const MapTerm& term);
/// Whether an input's terms determine every one of `out_arity` output keys, so the output's
/// partitions can be enumerated from the input's.
bool input_determines_keys(const InputDef& input, size_t out_arity);

/// The mapping as users write it, e.g. `raw_logs[month(day)]`, for hints and `dbuild graph`.
std::string describe_mapping(const Dataset& out, const Dataset& in, const std::vector<MapTerm>& t);

}  // namespace dbuild
