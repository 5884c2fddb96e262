// Evaluator: partitions recorded before but no longer produced (a source file was deleted, a
// window moved), and damaged records. `plan` lists them; `build` deletes them before it runs.
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "eval/action_specs.h"
#include "eval/command_runner.h"
#include "eval/evaluator.h"
#include "graph/file_discovery.h"

namespace dbuild::exec {
namespace {

/// Why a recorded partition of `ds` that the graph does not have is gone.
void explain(const Dataset& ds, Orphan& o) {
  StringPool scratch;
  auto tuple = parse_partition_text(ds.keys, o.partition, scratch);
  if (!tuple) {
    o.code = "unknown_partition";
    o.reason = fmt::format("`{}` is not a partition name of `{}` any more (its keys or their text form changed)",
                           o.partition, ds.name);
  } else if (ds.kind == Dataset::Kind::FileSource) {
    o.code = "source_file_gone";
    o.reason = fmt::format("source file {} is gone", expand_path_template(ds.path_template, ds.keys, *tuple, scratch));
  } else {
    o.code = "not_produced";
    o.reason = "its inputs no longer produce it";
  }
}

/// A damaged record: its dataset and partition text.
using Damaged = std::pair<DatasetId, std::string>;

/// One scan of the records of the model's datasets (but those `skip` flags): those the graph
/// does not have go to *orphans (without their reasons yet), those that fail to decode to
/// *damaged (and to *orphans too if the graph does not have them).
Status scan_records(const ActionGraph& g, const StateStore& store, const std::vector<uint8_t>& skip,
                    std::vector<Orphan>* orphans, std::vector<Damaged>* damaged) {
  auto txn = store.read();
  if (!txn.ok()) return txn.status();
  std::vector<std::string> bad;
  for (const auto& ds : g.model->datasets) {
    if (ds.kind == Dataset::Kind::TableSource) continue;  // never recorded: nothing to remove
    if (ds.id < skip.size() && skip[ds.id]) continue;
    std::vector<int64_t> tuple(ds.keys.size());
    bad.clear();
    Status s = txn->for_each_partition_of(
        ds.name,
        [&](std::string_view, std::string_view text, const PartitionRecord& r) {
          if (find_partition_text(ds.keys, text, g.pool, tuple) && g.find(ds.id, tuple)) return;
          orphans->push_back(Orphan{ds.id, std::string(text), "", "", r.has_build() ? r.row_count : -1});
        },
        &bad);
    if (!s.ok()) return s;
    for (auto& p : bad) {
      bool produced = find_partition_text(ds.keys, p, g.pool, tuple) && g.find(ds.id, tuple);
      if (!produced) orphans->push_back(Orphan{ds.id, p, "", "", -1});  // its data goes too
      damaged->emplace_back(ds.id, std::move(p));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Orphan>> Evaluator::find_orphans() const {
  std::vector<Orphan> out;
  std::vector<Damaged> bad;
  if (!store_) return out;
  // Datasets whose records load() scanned were seen then; scan the others now.
  Status s = scan_records(g_, *store_, records_scanned_, &out, &bad);
  if (!s.ok()) return s;
  for (const Orphan& o : scanned_orphans_)
    if (g_.model->datasets[o.dataset].kind != Dataset::Kind::TableSource) out.push_back(o);
  std::stable_sort(out.begin(), out.end(), [](const Orphan& a, const Orphan& b) { return a.dataset < b.dataset; });
  for (auto& o : out) explain(g_.model->datasets[o.dataset], o);
  return out;
}

Result<size_t> Evaluator::remove_orphans() {
  // A build from scratch would not have these partitions, so their rows and records go.
  removed_.clear();
  damaged_set_aside_ = 0;
  std::vector<Orphan> orphans;
  std::vector<Damaged> damaged;
  Status scanned = scan_records(g_, *store_, {}, &orphans, &damaged);
  if (!scanned.ok()) return scanned;
  // A damaged record says nothing trustworthy: forget it, so its partition is rebuilt (its
  // data is replaced then).
  if (!damaged.empty()) {
    WriteBatch batch;
    for (const auto& [id, text] : damaged) batch.delete_partition(g_.model->datasets[id].name, text);
    Status s = store_->commit(batch);
    if (!s.ok()) return s;
    damaged_set_aside_ = damaged.size();
  }
  for (auto& o : orphans) explain(g_.model->datasets[o.dataset], o);
  if (orphans.empty()) return size_t{0};
  WriteBatch batch;
  for (const Orphan& o : orphans) {
    const Dataset& ds = g_.model->datasets[o.dataset];
    StringPool scratch;
    auto tuple = parse_partition_text(ds.keys, o.partition, scratch);
    if (tuple && ds.kind == Dataset::Kind::CommandTable) {  // its file, then its rows if loaded
      std::error_code ec;
      // Only a path dbuild could have written: inside the workspace, from safe values.
      if (auto path = command_output_path(ds, *tuple, scratch); path.ok())
        std::filesystem::remove(g_.model->root + "/" + *path, ec);
    }
    if (tuple && (ds.kind != Dataset::Kind::CommandTable || ds.format != kNone)) {
      // The data first: a record must never outlive the data it describes.
      auto session = sessions_->of(ds);
      if (!session.ok()) return session.status();
      Status s = (*session)->delete_partition(ds.name, key_columns(ds, *tuple, scratch));
      if (!s.ok()) return s;
    }
    batch.delete_partition(ds.name, o.partition);
  }
  Status s = store_->commit(batch);
  if (!s.ok()) return s;
  removed_ = std::move(orphans);
  return removed_.size();
}

}  // namespace dbuild::exec
