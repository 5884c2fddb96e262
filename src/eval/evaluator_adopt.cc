// Evaluator::adopt: `dbuild mark-done`, recording existing data as built without running.
#include <chrono>

#include <fmt/format.h>

#include "eval/action_specs.h"
#include "eval/evaluator.h"

namespace dbuild::exec {

Result<size_t> Evaluator::adopt(const std::vector<uint8_t>& selected, const std::string& command_line) {
  if (!store_) return Status::Error("adopting needs a state store");
  Status s = load(selected, true);
  if (!s.ok()) return s;
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  auto run_id = store_->begin_run(command_line, now_ms);
  if (!run_id.ok()) return run_id.status();
  WriteBatch batch;
  size_t adopted = 0;
  for (ActionId a = 0; a < g_.size(); ++a) {
    if (!selected_[a]) continue;
    const Dataset& ds = g_.model->datasets[g_.dataset_of(a)];
    KeyParts now = parts(a);
    if (ds.kind == Dataset::Kind::TableSource) {
      fingerprints_[a] = file_hashes_[a];
      continue;
    }
    auto session = sessions_->of(ds);
    if (!session.ok()) return session.status();
    auto exists = (*session)->table_exists(ds.name);
    if (!exists.ok()) return exists.status();
    if (!output_present_[ds.id] || !*exists)
      return Status::Error(fmt::format("cannot mark {} done: table `{}` is not in {}", g_.label(a), ds.name,
                                       engines_.where(*g_.model, ds)));
    auto fp = (*session)->fingerprint_partition(ds.name, key_columns(ds, g_.tuple_of(a), g_.pool));
    if (!fp.ok()) return fp.status();
    fingerprints_[a] = fp->fingerprint;
    PartitionRecord r;
    r.key = now.key;
    r.definition = now.definition;
    r.input_set = now.input_set;
    r.fingerprint = fp->fingerprint;
    r.row_count = fp->rows;
    r.run_id = *run_id;
    r.started_unix_ms = r.finished_unix_ms = now_ms;
    const auto& old = records_[a];
    r.changed_run_id = old && old->has_build() && old->fingerprint == fp->fingerprint ? old->changed_run_id : *run_id;
    batch.put_partition(ds.name, g_.partition_text(a), r);
    ++adopted;
    if (batch.size() >= 10000) {
      s = store_->commit(batch);
      if (!s.ok()) return s;
      batch = WriteBatch();
    }
  }
  s = store_->commit(batch);
  if (!s.ok()) return s;
  RunOutcome outcome;
  outcome.finished_unix_ms = now_ms;
  s = store_->finish_run(*run_id, outcome);
  if (!s.ok()) return s;
  return adopted;
}

}  // namespace dbuild::exec
