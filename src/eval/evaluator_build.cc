// Evaluator::build: runs stale actions on worker threads in dependency order.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <condition_variable>
#include <deque>
#include <map>
#include <filesystem>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "base/interrupt.h"
#include "eval/action_specs.h"
#include "eval/command_runner.h"
#include "graph/file_discovery.h"
#include "eval/evaluator.h"

namespace dbuild::exec {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// The outcome of running one action.
struct Outcome {
  ActionId action = 0;
  Status status;
  WriteResult result;
  std::string log;  // what the action printed (commands), kept as its log
  std::string output_path;           // commands: the file written, relative to the root
  std::optional<StatEntry> output;   // commands: its content hash and stat identity
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
};

Outcome execute(const ActionGraph& g, ActionId a, EngineSessions& sessions, const std::string& warehouse) {
  Outcome out;
  out.action = a;
  out.started_ms = now_ms();
  const Dataset& ds = g.model->datasets[g.dataset_of(a)];
  Result<WriteResult> r = Status::Error("nothing to run");
  auto engine = sessions.engine(ds);
  // A command whose output is not loaded needs no engine.
  bool needs_engine = ds.kind != Dataset::Kind::CommandTable || ds.format != kNone;
  auto session = needs_engine ? sessions.of(ds) : Result<EngineSession*>(nullptr);
  if (!session.ok()) {
    r = session.status();
  } else if (ds.kind == Dataset::Kind::FileSource) {
    std::string path = g.model->root + "/" + g.files[ds.id][g.partition_of(a)];
    r = (*session)->load_partition(ds.name, key_columns(ds, g.tuple_of(a), g.pool),
                                   load_spec(g.model->formats[ds.format]), path);
  } else if (ds.kind == Dataset::Kind::SqlTable) {
    auto q = query_spec(g, a, **engine);
    r = q.ok() ? (*session)->write_query_partition(*q) : Result<WriteResult>(q.status());
  } else if (ds.kind == Dataset::Kind::CommandTable) {
    auto c = run_command_action(g, a, warehouse);
    if (c.ok()) {
      out.log = c->log;
      out.output_path = c->output_path;
      out.output = c->output;
    }
    if (!c.ok()) {
      r = c.status();
    } else if (ds.format != kNone) {  // loaded into its engine: fingerprinted by its rows
      r = (*session)->load_partition(ds.name, key_columns(ds, g.tuple_of(a), g.pool),
                                     load_spec(g.model->formats[ds.format]), g.model->root + "/" + c->output_path);
    } else {
      WriteResult w;
      w.fingerprint = c->output.content_hash;
      w.rows = -1;
      r = w;
    }
  }
  out.finished_ms = now_ms();
  if (r.ok()) out.result = std::move(*r);
  else out.status = r.status();
  return out;
}

}  // namespace

/// Worker threads, each with its own engine sessions. submit() and wait() are called by the
/// one thread that drives the build.
class WorkerPool {
 public:
  WorkerPool(const ActionGraph& g, const Engines& engines, std::string warehouse, int n)
      : g_(g), engines_(engines), warehouse_(std::move(warehouse)) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
  }
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void submit(ActionId a) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(a);
    }
    cv_.notify_one();
  }
  /// The next finished action; nullopt when none finished within `timeout`.
  std::optional<Outcome> wait(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!done_cv_.wait_for(lock, timeout, [this] { return !done_.empty(); })) return std::nullopt;
    Outcome o = std::move(done_.front());
    done_.pop_front();
    return o;
  }

 private:
  void work() {
    EngineSessions sessions(engines_);
    for (;;) {
      ActionId a;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (stop_) return;
        a = jobs_.front();
        jobs_.pop_front();
      }
      Outcome o = execute(g_, a, sessions, warehouse_);
      {
        std::lock_guard<std::mutex> lock(mu_);
        done_.push_back(std::move(o));
      }
      done_cv_.notify_one();
    }
  }

  const ActionGraph& g_;
  const Engines& engines_;
  const std::string warehouse_;  // for commands: DBUILD_WAREHOUSE
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::deque<ActionId> jobs_;
  std::deque<Outcome> done_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

/// The state of one build while it runs.
struct Evaluator::Run {
  std::vector<uint32_t> remaining;       // per action: selected inputs not settled yet
  std::vector<uint64_t> dep_begin;       // dependents, CSR over all actions
  std::vector<ActionId> deps;
  std::deque<ActionId> to_settle, runnable;
  WriteBatch batch;
  int64_t last_flush_ms = 0;
  size_t running = 0;
  bool stopping = false;
  std::vector<uint8_t> marked;  // per action: marked in flight in the state (build protocol)
  std::map<const Engine*, int> running_on;         // actions running per engine
  std::map<ActionId, const Engine*> engine_of;     // of each running action
  int interrupted_by = 0;   // the signal that stopped the build
  size_t rolled_back = 0;   // actions interrupted while running
  Progress progress;
  int64_t started_ms = 0;
};

Result<BuildSummary> Evaluator::build(const std::vector<uint8_t>& selected, const BuildOptions& options) {
  if (!store_) return Status::Error("building needs a state store");
  if (Status st = check_command_outputs(g_, selected); !st.ok()) return st;
  remove_leftover_temporaries(g_, selected);
  // First remove what the graph no longer produces, so no query can read it.
  auto orphans = remove_orphans();
  if (!orphans.ok()) return orphans.status();
  size_t removed = *orphans;
  Status s = load(selected, true);
  if (!s.ok()) return s;
  auto run_id = store_->begin_run(options.command_line, now_ms());
  if (!run_id.ok()) return run_id.status();
  Run run;
  for (ActionId a : healed_) {  // marks a killed build left on data it did not change
    const Dataset& ds = g_.model->datasets[g_.dataset_of(a)];
    run.batch.put_partition(ds.name, g_.partition_text(a), *records_[a]);
  }
  run.started_ms = now_ms();
  run.last_flush_ms = run.started_ms;
  size_t n = g_.size();
  run.remaining.assign(n, 0);
  run.marked.assign(n, 0);
  run.dep_begin.assign(n + 1, 0);
  for (ActionId a = 0; a < n; ++a) {
    if (!selected_[a]) continue;
    for (ActionId in : g_.inputs_of(a)) {
      ++run.remaining[a];
      ++run.dep_begin[in + 1];
    }
  }
  for (size_t i = 0; i < n; ++i) run.dep_begin[i + 1] += run.dep_begin[i];
  run.deps.resize(run.dep_begin[n]);
  std::vector<uint64_t> fill(run.dep_begin.begin(), run.dep_begin.end() - 1);
  for (ActionId a = 0; a < n; ++a) {
    if (!selected_[a]) continue;
    for (ActionId in : g_.inputs_of(a)) run.deps[fill[in]++] = a;
    if (run.remaining[a] == 0) run.to_settle.push_back(a);
  }

  auto finished = [&](ActionId a) {
    for (uint64_t i = run.dep_begin[a]; i < run.dep_begin[a + 1]; ++i)
      if (--run.remaining[run.deps[i]] == 0) run.to_settle.push_back(run.deps[i]);
  };
  auto flush = [&](bool force) -> Status {
    if (run.batch.empty() || (!force && run.batch.size() < 256 && now_ms() - run.last_flush_ms < 200))
      return Status::Ok();
    Status st = store_->commit(run.batch);
    run.batch = WriteBatch();
    run.last_flush_ms = now_ms();
    return st;
  };

  WorkerPool pool(g_, engines_, options.warehouse_for_commands, std::max(1, options.jobs));
  const char* kill_env = std::getenv("DBUILD_TEST_KILL_AFTER_COMMITS");
  long kill_after = kill_env ? std::strtol(kill_env, nullptr, 10) : 0, committed = 0;
  for (;;) {
    while (!run.to_settle.empty()) {
      ActionId a = run.to_settle.front();
      run.to_settle.pop_front();
      settle(a, true, options.force);
      if (info_[a].state != ActionState::kStale) {
        finished(a);
      } else if (run.stopping) {
        info_[a].state = ActionState::kNotRun;
        finished(a);
      } else {
        run.runnable.push_back(a);
        ++run.progress.to_run;
      }
    }
    if (run.interrupted_by == 0 && interrupt_signal() != 0) {
      run.stopping = true;
      run.interrupted_by = interrupt_signal();
    }
    if (!run.stopping) {
      Status st = start_actions(run, *run_id, options.jobs, pool);
      if (!st.ok()) return st;
    }
    if (run.stopping)
      while (!run.runnable.empty()) {
        ActionId a = run.runnable.front();
        run.runnable.pop_front();
        info_[a].state = ActionState::kNotRun;
        unmark(a, run);
        finished(a);
      }
    if (run.running == 0 && run.to_settle.empty()) break;
    if (run.running == 0) continue;
    std::optional<Outcome> next = pool.wait(std::chrono::milliseconds(100));
    if (!next) continue;  // look at the interrupt flag again
    Outcome& o = *next;
    --run.running;
    if (auto e = run.engine_of.find(o.action); e != run.engine_of.end()) {
      --run.running_on[e->second];
      run.engine_of.erase(e);
    }
    // Fault injection for tests: die the hard way right after a data commit, before its record.
    if (o.status.ok() && kill_after > 0 && ++committed == kill_after) ::raise(SIGKILL);
    bool interrupted = !o.status.ok() && interrupt_signal() != 0;
    if (interrupted) {
      undo_start(o.action, run);
      run.stopping = true;
      run.interrupted_by = interrupt_signal();
    } else {
      record_outcome(o.action, o.status, o.result, o.started_ms, o.finished_ms, *run_id, run);
    }
    if (o.status.ok() && o.output) {  // readers that are commands see the file's bytes
      file_hashes_[o.action] = o.output->content_hash;
      run.batch.put_stat(g_.model->root + "/" + o.output_path, *o.output);
    }
    if (o.status.ok() && !o.log.empty())
      run.batch.put_log(g_.model->datasets[g_.dataset_of(o.action)].name, g_.partition_text(o.action), *run_id, o.log);
    if (!o.status.ok() && !options.keep_going) run.stopping = true;
    finished(o.action);
    run.progress.running = run.running;
    run.progress.elapsed_ms = now_ms() - run.started_ms;
    run.progress.last = g_.label(o.action);
    run.progress.last_failed = !o.status.ok() && !interrupted;
    run.progress.last_interrupted = interrupted;
    if (options.on_progress) options.on_progress(run.progress);
    Status fs = flush(false);
    if (!fs.ok()) return fs;
  }
  Status fs = flush(true);
  if (!fs.ok()) return fs;

  BuildSummary sum;
  sum.removed = removed;
  sum.run_id = *run_id;
  for (ActionId a = 0; a < n; ++a) {
    switch (info_[a].state) {
      case ActionState::kRan: ++sum.ran; break;
      case ActionState::kUpToDate: ++sum.up_to_date; break;
      case ActionState::kCutOff: ++sum.cut_off; break;
      case ActionState::kFailed: ++sum.failed; break;
      case ActionState::kNotRun: ++sum.not_run; break;
      default: break;
    }
  }
  sum.elapsed_ms = now_ms() - run.started_ms;
  sum.interrupted_by = run.interrupted_by;
  sum.rolled_back = run.rolled_back;
  RunOutcome outcome;
  outcome.finished_unix_ms = now_ms();
  outcome.counts = RunCounts{sum.ran + sum.failed, sum.up_to_date, sum.cut_off, sum.failed};
  outcome.exit_status = run.interrupted_by ? 128 + run.interrupted_by : sum.failed || sum.not_run ? 1 : 0;
  Status rs = store_->finish_run(*run_id, outcome);
  if (!rs.ok()) return rs;
  return sum;
}

Status Evaluator::start_actions(Run& run, uint64_t run_id, int jobs, WorkerPool& pool) {
  // Build protocol: before an action's data can commit, its record says an attempt with its
  // new key is in flight. A build killed after the data commit and before the new record
  // leaves that mark, so the next build redoes the partition instead of trusting the old
  // record's key. One commit marks every runnable action (queued ones are in flight too), so
  // a wave of actions costs one sync, not one each; it also writes the records of what
  // finished, so readers never start before the records of their inputs are on disk.
  size_t slots = static_cast<size_t>(std::max(1, jobs));
  if (run.runnable.empty() || run.running >= slots) return Status::Ok();
  if (!run.marked[run.runnable.front()]) {
    for (ActionId a : run.runnable) {
      if (run.marked[a]) continue;
      run.marked[a] = 1;
      if (!records_[a]) continue;
      const Dataset& ds = g_.model->datasets[g_.dataset_of(a)];
      run.batch.record_start(ds.name, g_.partition_text(a), parts(a).key, run_id);
    }
    Status st = store_->commit(run.batch);
    run.batch = WriteBatch();
    run.last_flush_ms = now_ms();
    if (!st.ok()) return st;
  }
  // Each engine takes at most max_writers() actions at once (0: no limit beyond the jobs); an
  // action whose engine is busy waits without holding back actions on other engines.
  for (auto it = run.runnable.begin(); it != run.runnable.end() && run.running < slots && run.marked[*it];) {
    const Engine* engine = engine_of(*it);
    int cap = engine ? engine->max_writers() : 0;
    if (cap > 0 && run.running_on[engine] >= cap) {
      ++it;
      continue;
    }
    pool.submit(*it);
    ++run.running_on[engine];
    run.engine_of[*it] = engine;
    it = run.runnable.erase(it);
    ++run.running;
  }
  return Status::Ok();
}

const Engine* Evaluator::engine_of(ActionId a) const {
  const Dataset& ds = g_.model->datasets[g_.dataset_of(a)];
  if (ds.kind == Dataset::Kind::CommandTable && ds.format == kNone) return nullptr;
  auto e = engines_.of(ds);
  return e.ok() ? *e : nullptr;
}

void Evaluator::unmark(ActionId a, Run& run) {
  if (!run.marked[a] || !records_[a]) return;
  // Marked but never started: its data was not touched, so the previous record is true.
  const Dataset& ds = g_.model->datasets[g_.dataset_of(a)];
  run.batch.put_partition(ds.name, g_.partition_text(a), *records_[a]);
}

void Evaluator::undo_start(ActionId a, Run& run) {
  // Interrupted while running: the engine rolled the partition back (a command's output was
  // never moved into place), so the previous record is true again.
  info_[a].state = ActionState::kNotRun;
  ++run.rolled_back;
  ++run.progress.done;
  if (!records_[a]) return;
  const Engine* engine = engine_of(a);
  if (engine && !engine->atomic_writes()) return;  // maybe half replaced: the mark stays
  const Dataset& ds = g_.model->datasets[g_.dataset_of(a)];
  run.batch.put_partition(ds.name, g_.partition_text(a), *records_[a]);
}

void Evaluator::record_outcome(ActionId a, const Status& status, const WriteResult& result,
                               int64_t started_ms, int64_t finished_ms, uint64_t run_id, Run& run) {
  const Dataset& ds = g_.model->datasets[g_.dataset_of(a)];
  ++run.progress.done;
  if (!status.ok()) {
    info_[a].state = ActionState::kFailed;
    errors_[a] = status.message();
    ++run.progress.failed;
    const Engine* engine = engine_of(a);
    if (engine && !engine->atomic_writes() && run.marked[a] && records_[a]) {
      // The failed write may have replaced part of the partition: its record stays marked in
      // flight, so the next build compares the data with the record (and redoes it if it
      // changed) instead of trusting the old fingerprint.
      run.batch.put_log(ds.name, g_.partition_text(a), run_id, status.message());
      return;
    }
    run.batch.record_failure(ds.name, g_.partition_text(a), parts(a).key, run_id, status.message());
    return;
  }
  info_[a].state = ActionState::kRan;
  info_[a].rows = result.rows;
  rebuilt_[a] = 1;
  fingerprints_[a] = result.fingerprint;
  const auto& old = records_[a];
  KeyParts now = parts(a);  // the inputs' fingerprints are final: the same key that was decided
  PartitionRecord r;
  r.key = now.key;
  r.definition = now.definition;
  r.input_set = now.input_set;
  r.fingerprint = result.fingerprint;
  r.status = PartitionStatus::kBuiltOk;
  r.started_unix_ms = started_ms;
  r.finished_unix_ms = finished_ms;
  r.duration_ms = static_cast<uint64_t>(std::max<int64_t>(0, finished_ms - started_ms));
  r.row_count = result.rows;
  r.run_id = run_id;
  bool same = old && old->has_build() && old->fingerprint == result.fingerprint;
  r.changed_run_id = same ? old->changed_run_id : run_id;
  std::string text = g_.partition_text(a);
  run.batch.put_partition(ds.name, text, r);
  if (result.skipped_malformed > 0) {
    std::string lines;
    for (uint64_t l : result.skipped_lines_sample) lines += (lines.empty() ? "" : ", ") + std::to_string(l);
    run.batch.put_log(ds.name, text, run_id,
                      fmt::format("skipped {} malformed line{} (lines {}{})", result.skipped_malformed,
                                  result.skipped_malformed == 1 ? "" : "s", lines,
                                  result.skipped_malformed > result.skipped_lines_sample.size() ? ", ..." : ""));
  }
}

}  // namespace dbuild::exec
