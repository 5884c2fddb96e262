#include "eval/evaluator.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/metrics.h"
#include "eval/action_specs.h"
#include "eval/command_runner.h"
#include "loading/file_hash.h"

namespace dbuild::exec {


std::vector<std::string> reason_codes(uint32_t bits) {
  static const char* kCodes[] = {"new", "definition_changed", "input_changed", "inputs_added_or_removed",
                                 "failed_before", "forced", "output_missing", "interrupted"};
  std::vector<std::string> out;
  for (int i = 0; i < 8; ++i)
    if (bits & (1u << i)) out.push_back(kCodes[i]);
  return out;
}

std::string reason_words(uint32_t bits) {
  static const char* kWords[] = {"never built", "definition changed", "input changed",
                                 "input set changed", "last run failed", "forced",
                                 "output missing or changed outside dbuild",
                                 "a build started writing it and did not record the result (interrupted, or running now)"};
  std::string out;
  for (int i = 0; i < 8; ++i)
    if (bits & (1u << i)) out += (out.empty() ? "" : ", ") + std::string(kWords[i]);
  return out;
}

const char* state_code(ActionState s) {
  switch (s) {
    case ActionState::kUnselected: return "unselected";
    case ActionState::kUpToDate: return "up_to_date";
    case ActionState::kStale: return "stale";
    case ActionState::kRan: return "ran";
    case ActionState::kCutOff: return "cut_off";
    case ActionState::kFailed: return "failed";
    case ActionState::kNotRun: return "not_run";
  }
  return "?";
}

uint32_t stale_reasons(const std::optional<PartitionRecord>& record, const KeyParts& now,
                       bool forced, bool output_present) {
  uint32_t r = forced ? static_cast<uint32_t>(kForced) : 0u;
  // An attempt that started and was never recorded may have committed its data: whatever the
  // keys say, the data is not known to be the recorded build's.
  if (record && record->status == PartitionStatus::kInFlight) r |= kInterrupted;
  if (!record || !record->has_build()) {
    r |= kNew;
    if (record && record->status == PartitionStatus::kFailed && record->failed_key == now.key)
      r |= kFailedBefore;
    return r;
  }
  if (record->key == now.key) {
    if (!output_present) r |= kOutputMissing;
    return r;
  }
  if (record->failed_key == now.key && record->status == PartitionStatus::kFailed) r |= kFailedBefore;
  if (record->definition != now.definition) r |= kDefinitionChanged;
  if (record->input_set != now.input_set) r |= kInputsAddedOrRemoved;
  if (!(r & (kDefinitionChanged | kInputsAddedOrRemoved))) r |= kInputChanged;
  return r;
}

Evaluator::Evaluator(const ActionGraph& graph, StateStore* store, const Engines& engines)
    : g_(graph), store_(store), engines_(engines), sessions_(std::make_unique<EngineSessions>(engines)) {}

Evaluator::~Evaluator() = default;

Status Evaluator::load(const std::vector<uint8_t>& selected, bool write_stat_cache) {
  size_t n = g_.size();
  selected_ = selected;
  selected_.resize(n, 0);
  definitions_ = definition_hashes(*g_.model);
  info_.assign(n, ActionInfo{});
  fingerprints_.assign(n, Hash128{});
  records_.assign(n, std::nullopt);
  damaged_records_ = 0;
  file_hashes_.assign(n, Hash128{});
  rebuilt_.assign(n, 0);
  errors_.clear();
  ScopedMetric records_metric("state records");
  if (store_) {
    auto txn = store_->read();
    if (!txn.ok()) return txn.status();
    for (const auto& ds : g_.model->datasets) read_records(*txn, ds);
  }
  Status s = hash_source_files(write_stat_cache);
  if (!s.ok()) return s;
  s = fingerprint_table_sources();
  if (!s.ok()) return s;
  s = check_outputs();
  if (!s.ok()) return s;
  return check_marks();
}

Status Evaluator::check_marks() {
  // A partition marked in flight whose data still has its recorded fingerprint holds, by
  // content, what the record says: the interrupted attempt never committed, or committed the
  // same rows. Its record is true again; only partitions whose data did change are redone.
  healed_.clear();
  for (ActionId a = 0; a < g_.size(); ++a) {
    auto& r = records_[a];
    if (!selected_[a] || !r || r->status != PartitionStatus::kInFlight || !r->has_build()) continue;
    const Dataset& ds = g_.model->datasets[g_.dataset_of(a)];
    if (ds.kind == Dataset::Kind::TableSource) continue;
    Hash128 now;
    if (ds.kind == Dataset::Kind::CommandTable && ds.format == kNone) {
      now = file_hashes_[a];
    } else if (output_present_[ds.id]) {
      auto session = sessions_->of(ds);
      if (!session.ok()) return session.status();
      auto fp = (*session)->fingerprint_partition(ds.name, key_columns(ds, g_.tuple_of(a), g_.pool));
      if (!fp.ok()) continue;  // unreadable: it stays marked and is rebuilt
      now = fp->fingerprint;
    }
    if (now.is_zero() || now != r->fingerprint) continue;
    r->status = PartitionStatus::kBuiltOk;
    r->failed_key = Hash128{};
    r->failed_run_id = 0;
    healed_.push_back(a);
  }
  return Status::Ok();
}

void Evaluator::read_records(const ReadTxn& txn, const Dataset& ds) {
  if (ds.id == g_.model->datasets.front().id) {  // the first dataset of this load()
    records_scanned_.assign(g_.model->datasets.size(), 0);
    scanned_orphans_.clear();
  }
  ActionId first = g_.first_action[ds.id], end = g_.first_action[ds.id + 1];
  size_t wanted = 0;
  for (ActionId a = first; a < end; ++a) wanted += selected_[a];
  if (wanted == 0) return;
  // A few partitions: look each up. Many: one sequential scan of the dataset's records.
  if (wanted * 8 >= end - first) {
    // Records come in text order, which for most keys is the partitions' order: try the
    // action after the last match before searching.
    std::vector<int64_t> tuple(ds.keys.size());
    std::vector<std::string> damaged;  // records that fail to decode: treated as never built
    ActionId next = first;
    size_t orphans = scanned_orphans_.size();
    auto orphan = [&](std::string_view text, int64_t rows) {  // what a build would remove
      scanned_orphans_.push_back(Orphan{ds.id, std::string(text), "", "", rows});
    };
    Status scan = txn.for_each_partition_of(ds.name, [&](std::string_view, std::string_view text,
                                                        const PartitionRecord& r) {
      if (!find_partition_text(ds.keys, text, g_.pool, tuple)) return orphan(text, r.has_build() ? r.row_count : -1);
      std::optional<ActionId> a;
      if (next < end && std::equal(tuple.begin(), tuple.end(), g_.tuple_of(next).begin())) a = next;
      else a = g_.find(ds.id, tuple);
      if (!a) return orphan(text, r.has_build() ? r.row_count : -1);
      next = *a + 1;
      if (selected_[*a]) records_[*a] = r;
    }, &damaged);
    damaged_records_ += damaged.size();
    for (const auto& text : damaged)
      if (!find_partition_text(ds.keys, text, g_.pool, tuple) || !g_.find(ds.id, tuple)) orphan(text, -1);
    if (scan.ok()) {
      records_scanned_[ds.id] = 1;
      return;
    }
    scanned_orphans_.erase(scanned_orphans_.begin() + static_cast<std::ptrdiff_t>(orphans), scanned_orphans_.end());
    for (ActionId a = first; a < end; ++a) records_[a].reset();  // an LMDB error: go one by one
    damaged_records_ -= damaged.size();
  }
  for (ActionId a = first; a < end; ++a) {
    if (!selected_[a]) continue;
    auto rec = txn.partition(ds.name, g_.partition_text(a));
    if (rec.ok()) records_[a] = std::move(*rec);
    else ++damaged_records_;  // treated as never built: the partition is rebuilt
  }
}

Status Evaluator::hash_source_files(bool write_stat_cache) {
  ScopedMetric metric("source file hashes");
  WriteBatch batch;
  {
    Result<ReadTxn> txn = store_ ? store_->read() : Result<ReadTxn>(Status::Error("no state"));
    for (ActionId a = 0; a < g_.size(); ++a) {
      DatasetId d = g_.dataset_of(a);
      if (!selected_[a]) continue;
      // A command table's output file is hashed too: its readers that are commands count it
      // by its bytes, and a change made outside dbuild shows. A missing one hashes to zero.
      Dataset::Kind kind = g_.model->datasets[d].kind;
      bool command = kind == Dataset::Kind::CommandTable;
      if (kind != Dataset::Kind::FileSource && !(command && records_[a])) continue;
      std::string path;
      if (command) {
        auto rel = command_output_path(g_, a);
        if (!rel.ok()) continue;  // the build reports it
        path = g_.model->root + "/" + *rel;
      } else {
        path = g_.model->root + "/" + g_.files[d][g_.partition_of(a)];
      }
      struct stat st;
      bool exists = ::stat(path.c_str(), &st) == 0;
      if (command && !exists) continue;
      auto cached = txn.ok() ? txn->stat(path) : Result<std::optional<StatEntry>>(std::nullopt);
      if (cached.ok() && *cached && exists && same_stat(**cached, st)) {
        file_hashes_[a] = (*cached)->content_hash;
        continue;
      }
      StatEntry entry;
      Status s = hash_file(path, entry);
      if (!s.ok() && command) continue;
      if (!s.ok()) return s;
      file_hashes_[a] = entry.content_hash;
      batch.put_stat(path, entry);
    }
  }
  if (store_ && write_stat_cache && !batch.empty()) return store_->commit(batch);
  return Status::Ok();
}

Status Evaluator::fingerprint_table_sources() {
  for (ActionId a = 0; a < g_.size(); ++a) {
    const Dataset& ds = g_.model->datasets[g_.dataset_of(a)];
    if (!selected_[a] || ds.kind != Dataset::Kind::TableSource) continue;
    auto session = sessions_->of(ds);
    if (!session.ok()) return Status::Error(fmt::format("source {}: {}", ds.name, session.status().message()));
    auto fp = (*session)->fingerprint_partition(ds.source_table, key_columns(ds, g_.tuple_of(a), g_.pool));
    if (!fp.ok()) return Status::Error(fmt::format("source {}: {}", ds.name, fp.status().message()));
    file_hashes_[a] = fp->fingerprint;
  }
  return Status::Ok();
}

Status Evaluator::check_outputs() {
  ScopedMetric metric("output tables");
  output_present_.assign(g_.model->datasets.size(), 1);
  for (const auto& ds : g_.model->datasets) {
    bool loaded = ds.kind == Dataset::Kind::SqlTable || ds.kind == Dataset::Kind::FileSource ||
                  (ds.kind == Dataset::Kind::CommandTable && ds.format != kNone);
    if (!loaded) continue;
    bool any = false;
    for (ActionId a = g_.first_action[ds.id]; a < g_.first_action[ds.id + 1] && !any; ++a) any = selected_[a];
    if (!any) continue;
    auto engine = engines_.of(ds);
    if (!engine.ok()) return engine.status();
    if (!(*engine)->may_have_data()) {  // nothing built there yet; do not create anything
      output_present_[ds.id] = 0;
      continue;
    }
    auto session = sessions_->of(ds);
    if (!session.ok()) return session.status();
    auto exists = (*session)->table_exists(ds.name);
    if (!exists.ok()) return exists.status();
    output_present_[ds.id] = *exists;
  }
  return Status::Ok();
}

void Evaluator::settle(ActionId a, bool building, bool force) {
  ActionInfo& info = info_[a];
  const Dataset& ds = g_.model->datasets[g_.dataset_of(a)];
  bool input_pending = false, input_failed = false, input_rebuilt = false;
  for (ActionId in : g_.inputs_of(a)) {
    ActionState s = info_[in].state;
    input_pending |= s == ActionState::kStale;
    input_failed |= s == ActionState::kFailed || s == ActionState::kNotRun;
    input_rebuilt |= rebuilt_[in] != 0;
  }
  if (input_failed) {
    info.state = ActionState::kNotRun;
    return;
  }
  KeyParts now = parts(a);
  if (ds.kind == Dataset::Kind::TableSource) {
    info.state = ActionState::kUpToDate;
    fingerprints_[a] = file_hashes_[a];
    return;
  }
  // With an input still to be rebuilt (plan), the key is not known yet: the input changed.
  bool present = output_present_[ds.id] != 0;
  if (ds.kind == Dataset::Kind::CommandTable && records_[a]) {
    // The file must be there; unloaded, it must also be the bytes that were built.
    bool file = !file_hashes_[a].is_zero();
    present = ds.format == kNone ? file && file_hashes_[a] == records_[a]->fingerprint : file && present;
  }
  uint32_t reasons = stale_reasons(records_[a], now, force, present);
  if (input_pending) reasons |= kInputChanged;
  info.reasons = reasons;
  if (reasons == 0) {
    info.state = building && input_rebuilt ? ActionState::kCutOff : ActionState::kUpToDate;
    fingerprints_[a] = records_[a]->fingerprint;
    info.rows = records_[a]->row_count;
    return;
  }
  info.state = ActionState::kStale;
}

KeyParts Evaluator::parts(ActionId a) const {
  return action_key(g_, definitions_, a, fingerprints_, file_hashes_);
}

const std::string& Evaluator::error(ActionId a) const {
  static const std::string kNone;
  auto it = errors_.find(a);
  return it == errors_.end() ? kNone : it->second;
}

Status Evaluator::plan(const std::vector<uint8_t>& selected, bool force) {
  Status s = load(selected, false);
  if (!s.ok()) return s;
  ScopedMetric metric("keys and staleness");
  for (ActionId a = 0; a < g_.size(); ++a)
    if (selected_[a]) settle(a, false, force);
  return Status::Ok();
}

std::vector<ActionId> Evaluator::changed_inputs(ActionId a) const {
  std::vector<ActionId> out;
  uint64_t built = records_[a] ? records_[a]->run_id : 0;
  for (ActionId in : g_.inputs_of(a)) {
    bool pending = info_[in].state == ActionState::kStale || rebuilt_[in];
    bool later = records_[in] && records_[in]->changed_run_id > built;
    if (pending || later) out.push_back(in);
  }
  return out;
}

}  // namespace dbuild::exec
