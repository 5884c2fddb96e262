#pragma once
/// The incremental evaluator (docs/architecture.md, Invariants): computes action keys bottom-up, compares them
/// with the state store, and runs the stale actions on the engine in dependency order.
///
/// The same code decides staleness for `plan`, `build` and `why` (stale_reasons()), so the
/// reason printed is the reason used. Early cutoff: an action whose inputs were rebuilt but
/// came out with their old fingerprints keeps its key and does not run.
///
/// Invariants kept here (docs/architecture.md, Invariants): a partition's record is written only after its data
/// is committed by the engine; a failure records the failed key and log without touching the
/// previous record; after a crash the next run redoes at most what was in flight.
///
/// Thread-safety: an Evaluator is driven by one thread; build() runs engine actions on `jobs`
/// worker threads, each with its own engine connection, and commands on executors.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/action_key.h"
#include "eval/engines.h"
#include "eval/executors.h"
#include "state/state_store.h"

namespace dbuild::exec {

/// Why an action is stale: bits of a reason set, each with a stable code for --json.
enum Reason : uint32_t {
  kNew = 1 << 0,                   // never built
  kDefinitionChanged = 1 << 1,     // the rule's normalized text, engine or variables changed
  kInputChanged = 1 << 2,          // an input partition's content changed (or will be rebuilt)
  kInputsAddedOrRemoved = 1 << 3,  // the set of input partitions changed (a window grew...)
  kFailedBefore = 1 << 4,          // the last attempt with this key failed
  kForced = 1 << 5,                // --force
  kOutputMissing = 1 << 6,         // the output is gone from the warehouse or changed outside dbuild
  kInterrupted = 1 << 7,           // a build started writing it and was killed (or runs now)
};
/// Codes of the reasons in `bits`, in the order above: new, definition_changed, ...
std::vector<std::string> reason_codes(uint32_t bits);
/// The reasons in words, for people.
std::string reason_words(uint32_t bits);

/// The reasons action parts `now` differs from what was recorded; 0: up to date.
uint32_t stale_reasons(const std::optional<PartitionRecord>& record, const KeyParts& now,
                       bool forced, bool output_present);

/// What the evaluator knows of an action.
enum class ActionState : uint8_t {
  kUnselected,  // not a target nor upstream of one: not looked at
  kUpToDate,    // key unchanged and output present
  kStale,       // plan: would run (reasons say why)
  kRan,         // build: ran and committed
  kCutOff,      // build: an input was rebuilt, but identically; key unchanged, not run
  kFailed,      // build: ran and failed; previous data and record kept
  kNotRun,      // build: not run because an input failed, or the build stopped or was
                // interrupted first (an interrupted action's writes were rolled back)
};
const char* state_code(ActionState s);  // up_to_date, stale, ran, cut_off, failed, not_run

struct ActionInfo {
  ActionState state = ActionState::kUnselected;
  uint32_t reasons = 0;
  int64_t rows = -1;
};

/// Progress of a build, for the status line.
struct Progress {
  size_t done = 0;      // actions finished running (ran or failed)
  size_t to_run = 0;    // actions known so far to need running
  size_t running = 0;
  size_t failed = 0;
  int64_t elapsed_ms = 0;
  std::string last;     // label of the action that finished last
  bool last_failed = false;
  bool last_interrupted = false;  // the last one was stopped by SIGINT/SIGTERM and rolled back
};

/// Milliseconds since the epoch; a build reads time only through one (tests pass a fake).
using Clock = std::function<int64_t()>;

struct BuildOptions {
  /// Worker threads for engine actions and for finishing commands; with no `executors`, also
  /// how many commands run at once on the local executor.
  int jobs = 1;
  bool keep_going = false;
  bool force = false;
  std::string command_line;
  std::string warehouse_for_commands;  // DBUILD_WAREHOUSE in a command's environment
  /// Where command tables run; null: a local executor running `jobs` at once.
  const Executors* executors = nullptr;
  Clock clock;  // empty: the system clock
  std::function<void(const Progress&)> on_progress;
};

struct BuildSummary {
  uint64_t run_id = 0;
  size_t ran = 0, up_to_date = 0, cut_off = 0, failed = 0, not_run = 0;
  int interrupted_by = 0;       // the signal that stopped the build; 0: it was not interrupted
  size_t rolled_back = 0;       // actions that were running when it was, and were rolled back
  size_t removed = 0;  // partitions no longer produced, deleted with their records
  int64_t elapsed_ms = 0;
};

/// A recorded partition that the graph no longer has: a build deletes its data and record.
struct Orphan {
  DatasetId dataset = 0;
  std::string partition;  // its recorded text form
  std::string code;       // source_file_gone, not_produced, unknown_partition (--json)
  std::string reason;     // for people: "source file data/raw/x.csv is gone"
  int64_t rows = -1;      // as recorded; -1: unknown
};

class WorkerPool;  // evaluator_build.cc

class Evaluator {
 public:
  /// REQUIRES: `graph`, `store` and `engines` outlive the evaluator. `store` may be null for
  /// plan() in a workspace with no state yet (nothing was ever built).
  Evaluator(const ActionGraph& graph, StateStore* store, const Engines& engines);
  ~Evaluator();

  /// Decides what is stale among `selected` (one flag per action; the caller includes the
  /// upstream of every target). Writes nothing.
  Status plan(const std::vector<uint8_t>& selected, bool force);
  /// Brings `selected` up to date.
  Result<BuildSummary> build(const std::vector<uint8_t>& selected, const BuildOptions& options);

  /// Records the selected partitions as built from the data already in the warehouse,
  /// without running anything (`dbuild mark-done`). Returns how many were recorded.
  Result<size_t> adopt(const std::vector<uint8_t>& selected, const std::string& command_line);

  const std::vector<ActionInfo>& info() const { return info_; }
  /// What went wrong with a failed action ("" if it did not fail).
  const std::string& error(ActionId a) const;
  /// How many partition records were damaged (and treated as never built).
  size_t damaged_records() const { return damaged_records_; }
  /// What a build would remove before running: recorded partitions the graph no longer has.
  /// After plan(), reuses what its scans of the records saw.
  Result<std::vector<Orphan>> find_orphans() const;
  /// What build() removed, and how many damaged records it set aside (see evaluator_orphans.cc).
  const std::vector<Orphan>& removed() const { return removed_; }
  size_t damaged_set_aside() const { return damaged_set_aside_; }
  /// Inputs of `a` that changed since `a` was built (recorded later, or stale now).
  std::vector<ActionId> changed_inputs(ActionId a) const;

 private:
  struct Run;
  Status load(const std::vector<uint8_t>& selected, bool write_stat_cache);
  void read_records(const ReadTxn& txn, const Dataset& ds);
  Status hash_source_files(bool write_stat_cache);
  Status fingerprint_table_sources();
  Status check_outputs();
  /// Clears in-flight marks of partitions whose data still has the recorded fingerprint
  /// (in memory; a build writes the cleared records).
  Status check_marks();
  /// Deletes recorded partitions that the graph no longer has, and damaged records (their
  /// partitions are then rebuilt); returns how many partitions were removed.
  Result<size_t> remove_orphans();
  /// Computes the key of `a` from its inputs and decides its state (not run yet).
  void settle(ActionId a, bool building, bool force);
  /// The key parts of `a` from the current fingerprints of its inputs.
  KeyParts parts(ActionId a) const;
  /// Starts runnable actions as far as their pools allow (engine actions on the worker
  /// threads, commands on their executors); first marks every runnable action with a record
  /// as in flight (one state commit) when the next is not marked yet.
  Status start_actions(Run& run, uint64_t run_id, const BuildOptions& options, WorkerPool& pool);
  /// Starts the job of command action `a` on `executor`; a failure to start is reported
  /// through the build's events like any outcome.
  void start_job(ActionId a, Executor* executor, Run& run, const BuildOptions& options);
  /// Gives commands whose jobs finished to the worker threads, as far as pools allow.
  void start_finishing(Run& run, WorkerPool& pool);
  /// The engine action `a` writes to; null for a command whose output is not loaded.
  const Engine* engine_of(ActionId a) const;
  /// An action marked in flight that will not start: its previous record restored.
  void unmark(ActionId a, Run& run);
  /// An action stopped by an interrupt: not run, and its previous record restored.
  void undo_start(ActionId a, Run& run);
  /// Records a finished run of `a`: its state, and (in run.batch) its partition record.
  void record_outcome(ActionId a, const Status& status, const WriteResult& result,
                      int64_t started_ms, int64_t finished_ms, uint64_t run_id, Run& run);

  const ActionGraph& g_;
  StateStore* store_;
  const Engines& engines_;
  std::unique_ptr<EngineSessions> sessions_;  // of the driving thread
  std::vector<Hash128> definitions_;
  std::vector<uint8_t> selected_;
  std::vector<ActionInfo> info_;
  std::map<ActionId, std::string> errors_;    // of failed actions
  std::vector<Hash128> fingerprints_;         // per action: its output's, once known
  std::vector<std::optional<PartitionRecord>> records_;
  std::vector<Hash128> file_hashes_;          // per action (file sources)
  std::vector<uint8_t> output_present_;       // per dataset
  std::vector<uint8_t> rebuilt_;              // per action: ran in this build
  size_t damaged_records_ = 0;                 // records that failed their checksum
  std::vector<ActionId> healed_;               // marked in flight, data as recorded: mark cleared
  std::vector<Orphan> removed_;               // by remove_orphans()
  std::vector<uint8_t> records_scanned_;      // per dataset: load() scanned all its records...
  std::vector<Orphan> scanned_orphans_;       // ...and found these (no reasons yet)
  size_t damaged_set_aside_ = 0;              // by remove_orphans()
};

}  // namespace dbuild::exec
