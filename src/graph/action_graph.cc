#include "graph/action_graph.h"

#include <algorithm>
#include <filesystem>
#include <functional>

#include <fmt/format.h>

#include "graph/file_discovery.h"
#include "graph/mapping_eval.h"

namespace dbuild {

DatasetId ActionGraph::dataset_of(ActionId a) const {
  auto it = std::upper_bound(first_action.begin(), first_action.end() - 1, a);
  return static_cast<DatasetId>(it - first_action.begin() - 1);
}

std::string ActionGraph::partition_text(ActionId a) const {
  return dbuild::partition_text(model->datasets[dataset_of(a)].keys, tuple_of(a), pool);
}

std::string ActionGraph::label(ActionId a) const {
  std::string p = partition_text(a);
  const std::string& name = model->datasets[dataset_of(a)].name;
  return model->datasets[dataset_of(a)].keys.empty() ? name : name + "@" + p;
}

std::optional<ActionId> ActionGraph::find(DatasetId d, std::span<const int64_t> tuple) const {
  auto i = partitions[d].find(tuple);
  if (!i) return std::nullopt;
  return first_action[d] + static_cast<ActionId>(*i);
}

namespace {

/// Per input key: the literal value of Literal terms (unused otherwise).
std::vector<int64_t> literal_values(const InputDef& in, const Dataset& input, StringPool& pool) {
  std::vector<int64_t> out(in.terms.size(), 0);
  for (size_t k = 0; k < in.terms.size(); ++k)
    if (in.terms[k].kind == MapTerm::Kind::Literal)
      out[k] = literal_value(in.terms[k], input.keys[k], pool).value_or(INT64_MIN);
  return out;
}

/// The output partitions one input determines: every output tuple that reads some partition.
PartitionList outputs_from_input(const Dataset& out, const InputDef& in, const Dataset& input,
                                 const PartitionList& in_parts, StringPool& pool) {
  PartitionList result(static_cast<uint32_t>(out.keys.size()));
  std::vector<int64_t> literals = literal_values(in, input, pool);
  std::vector<ValueRange> ranges(out.keys.size());
  std::vector<int64_t> tuple(out.keys.size());
  for (size_t p = 0; p < in_parts.size(); ++p) {
    auto values = in_parts.at(p);
    bool relevant = true;
    for (auto& r : ranges) r = ValueRange{true};
    for (size_t k = 0; k < in.terms.size() && relevant; ++k) {
      const MapTerm& t = in.terms[k];
      if (t.kind == MapTerm::Kind::Literal) relevant = values[k] == literals[k];
      if (!term_determines_key(t)) continue;
      ValueRange b = backward_term(t, out.keys[t.out_key].type, values[k]);
      ValueRange& r = ranges[t.out_key];
      if (r.all) r = b;
      else r = ValueRange{false, std::max(r.lo, b.lo), std::min(r.hi, b.hi)};
    }
    if (!relevant) continue;
    // The cartesian product of the ranges (each is small: a fan-out is at most a month).
    std::function<void(size_t)> product = [&](size_t k) {
      if (k == ranges.size()) {
        result.add(tuple);
        return;
      }
      for (int64_t v = ranges[k].lo; v <= ranges[k].hi; ++v) {
        tuple[k] = v;
        product(k + 1);
      }
    };
    product(0);
  }
  result.sort_unique();
  return result;
}

PartitionList intersect(const PartitionList& a, const PartitionList& b) {
  PartitionList out(a.arity());
  for (size_t i = 0; i < a.size(); ++i)
    if (b.find(a.at(i))) out.add(a.at(i));
  out.sort_unique();
  return out;
}

/// Appends the actions of `input` that output tuple `out_tuple` reads through `in`.
void add_edges(const ActionGraph& g, const Dataset& out, const InputDef& in,
               const std::vector<int64_t>& literals, std::span<const int64_t> out_tuple,
               std::vector<ActionId>& edges) {
  const PartitionList& parts = g.partitions[in.dataset];
  ActionId base = g.first_action[in.dataset];
  if (parts.arity() == 0) {
    if (parts.size() == 1) edges.push_back(base);
    return;
  }
  std::vector<ValueRange> ranges(in.terms.size());
  for (size_t k = 0; k < in.terms.size(); ++k)
    ranges[k] = forward_term(in.terms[k], out.keys, out_tuple, literals[k]);
  auto [begin, end] = ranges[0].all ? std::pair<size_t, size_t>{0, parts.size()}
                                    : parts.first_key_range(ranges[0].lo, ranges[0].hi);
  for (size_t i = begin; i < end; ++i) {
    auto t = parts.at(i);
    bool match = true;
    for (size_t k = 1; k < ranges.size() && match; ++k)
      match = ranges[k].all || (t[k] >= ranges[k].lo && t[k] <= ranges[k].hi);
    if (match) edges.push_back(base + static_cast<ActionId>(i));
  }
}

/// The tuple of raw key values (a table source's row); false if one does not fit its type.
bool raw_tuple(const std::vector<PartitionKeyDef>& keys, const std::vector<std::string>& row, StringPool& pool,
               std::vector<int64_t>& out) {
  if (row.size() != keys.size()) return false;
  for (size_t k = 0; k < keys.size(); ++k) {
    if (keys[k].type == KeyType::String) {
      out[k] = pool.intern(row[k]);
      continue;
    }
    auto v = parse_key_value(keys[k].type, row[k]);
    if (!v) return false;
    out[k] = *v;
  }
  return true;
}

Status source_partitions(const Model& model, const Dataset& ds, SourceLister& lister, ActionGraph& g) {
  PartitionList& parts = g.partitions[ds.id];
  if (ds.kind == Dataset::Kind::FileSource) {
    auto found = discover_files(model.root, ds, g.pool, &g.warnings);
    if (!found.ok()) return found.status();
    for (const auto& f : *found) {
      parts.add(f.tuple);
      g.files[ds.id].push_back(f.path);
    }
    return Status::Ok();  // discover_files sorts and rejects duplicates
  }
  auto listed = lister.list_table_partitions(ds);
  if (!listed.ok()) return listed.status();
  for (auto& w : listed->warnings) g.warnings.push_back(std::move(w));
  std::vector<int64_t> tuple(ds.keys.size());
  for (const auto& row : listed->tuples) {
    if (!raw_tuple(ds.keys, row, g.pool, tuple)) {
      g.warnings.push_back(fmt::format("{}: partition ({}) does not fit its key types; skipped",
                                       ds.name, fmt::join(row, ", ")));
      continue;
    }
    parts.add(tuple);
  }
  parts.sort_unique();
  return Status::Ok();
}

/// The grouped input's partitions with their sizes, in partition order.
std::vector<GroupInput> group_inputs(const Dataset& input, const ActionGraph& g) {
  std::vector<GroupInput> out;
  const PartitionList& parts = g.partitions[input.id];
  for (size_t p = 0; p < parts.size(); ++p) {
    GroupInput in{partition_text(input.keys, parts.at(p), g.pool), 0};
    if (input.kind == Dataset::Kind::FileSource) {
      std::error_code ec;
      auto size = std::filesystem::file_size(std::filesystem::path(g.model->root) / g.files[input.id][p], ec);
      if (!ec) in.bytes = size;
    }
    out.push_back(std::move(in));
  }
  return out;
}

/// A grouped table's partitions: its closed groups.
void grouped_partitions(const Dataset& ds, const GroupBook* book, ActionGraph& g) {
  std::vector<Group> recorded;
  int64_t now = book ? book->now_unix_ms : 0;
  if (book) {
    auto it = book->recorded.find(ds.name);
    if (it != book->recorded.end()) recorded = it->second;
  }
  const Dataset& input = g.model->datasets[ds.inputs[0].dataset];
  auto& groups = g.groups[ds.id];
  groups = assign_groups(ds, std::move(recorded), group_inputs(input, g), now);
  if (book && book->flush_table == ds.name && !groups.empty() &&
      !groups.back().closed && (book->flush_group.empty() || book->flush_group == groups.back().id)) {
    groups.back().closed = true;
    groups.back().flushed = true;
  }
  PartitionList& parts = g.partitions[ds.id];
  for (const auto& grp : groups) {
    if (!grp.closed) continue;
    int64_t id = g.pool.intern(grp.id);
    parts.add(std::span<const int64_t>(&id, 1));
  }
  parts.sort_unique();
}

/// The group that grouped partition `tuple` is.
const Group* group_of(const ActionGraph& g, DatasetId d, std::span<const int64_t> tuple) {
  const std::string& id = g.pool.text(tuple[0]);
  for (const auto& grp : g.groups[d])
    if (grp.id == id) return &grp;
  return nullptr;
}

void table_partitions(const Dataset& ds, ActionGraph& g) {
  PartitionList& parts = g.partitions[ds.id];
  if (ds.keys.empty()) {
    parts.add({});
    return;
  }
  bool any = false;
  for (const auto& in : ds.inputs) {
    if (!input_determines_keys(in, ds.keys.size())) continue;
    PartitionList from = outputs_from_input(ds, in, g.model->datasets[in.dataset], g.partitions[in.dataset], g.pool);
    parts = any ? intersect(parts, from) : std::move(from);
    any = true;
  }
}

}  // namespace

Result<ActionGraph> build_action_graph(const Model& model, SourceLister& lister, const GroupBook* book) {
  ActionGraph g;
  g.model = &model;
  size_t n = model.datasets.size();
  g.files.resize(n);
  g.groups.resize(n);
  for (const auto& ds : model.datasets) g.partitions.emplace_back(static_cast<uint32_t>(ds.keys.size()));
  g.first_action.reserve(n + 1);
  for (const auto& ds : model.datasets) {
    if (ds.is_source()) {
      Status s = source_partitions(model, ds, lister, g);
      if (!s.ok()) return s;
    } else if (ds.grouped() && !ds.inputs.empty() && g.partitions[ds.inputs[0].dataset].arity() != 0) {
      grouped_partitions(ds, book, g);
    } else {
      table_partitions(ds, g);
    }
  }
  ActionId next = 0;
  for (DatasetId d = 0; d < n; ++d) {
    g.first_action.push_back(next);
    next += static_cast<ActionId>(g.partitions[d].size());
  }
  g.first_action.push_back(next);
  g.input_begin.reserve(next + 1);
  for (DatasetId d = 0; d < n; ++d) {
    const Dataset& ds = model.datasets[d];
    std::vector<std::vector<int64_t>> literals;
    for (const auto& in : ds.inputs) literals.push_back(literal_values(in, model.datasets[in.dataset], g.pool));
    for (size_t p = 0; p < g.partitions[d].size(); ++p) {
      g.input_begin.push_back(g.inputs.size());
      const Group* grp = ds.grouped() ? group_of(g, d, g.partitions[d].at(p)) : nullptr;
      for (size_t i = 0; i < ds.inputs.size(); ++i) {
        if (i == 0 && grp) {  // the grouped input: exactly the group's members, in input order
          std::vector<uint32_t> members = grp->present;
          std::sort(members.begin(), members.end());
          for (uint32_t m : members) g.inputs.push_back(g.first_action[ds.inputs[0].dataset] + m);
          continue;
        }
        add_edges(g, ds, ds.inputs[i], literals[i], g.partitions[d].at(p), g.inputs);
      }
    }
  }
  g.input_begin.push_back(g.inputs.size());
  return g;
}

}  // namespace dbuild
