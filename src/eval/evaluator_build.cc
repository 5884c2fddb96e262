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
#include "executor/local/local_executor.h"
#include "graph/file_discovery.h"
#include "eval/evaluator.h"

namespace dbuild::exec {
namespace {

int64_t system_now_ms() {
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

/// Work for a worker thread: an engine action, or what follows a command's job (reading its
/// log, moving its output into place, loading it).
struct Task {
  ActionId action = 0;
  std::shared_ptr<const PreparedCommand> command;  // set: the job below has finished
  JobResult job;
  int64_t started_ms = 0;  // of the job
};

Outcome execute(const ActionGraph& g, const Task& task, EngineSessions& sessions, const Clock& clock) {
  ActionId a = task.action;
  Outcome out;
  out.action = a;
  out.started_ms = task.command ? task.started_ms : clock();
  const Dataset& ds = g.model->datasets[g.dataset_of(a)];
  Result<WriteResult> r = Status::Error("nothing to run");
  auto engine = sessions.engine(ds);
  // A command whose output is not loaded needs no engine.
  bool needs_engine = ds.kind != Dataset::Kind::CommandTable || ds.format != kNone;
  auto session = needs_engine ? sessions.of(ds) : Result<EngineSession*>(nullptr);
  if (!session.ok()) {
    r = session.status();
    if (task.command) discard_command(*task.command);
  } else if (ds.kind == Dataset::Kind::FileSource) {
    std::string path = g.model->root + "/" + g.files[ds.id][g.partition_of(a)];
    r = (*session)->load_partition(ds.name, key_columns(ds, g.tuple_of(a), g.pool),
                                   load_spec(g.model->formats[ds.format]), path);
  } else if (ds.kind == Dataset::Kind::SqlTable) {
    auto q = query_spec(g, a, **engine);
    r = q.ok() ? (*session)->write_query_partition(*q) : Result<WriteResult>(q.status());
  } else if (ds.kind == Dataset::Kind::CommandTable && task.command) {
    auto c = finish_command(*task.command, task.job);
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
  out.finished_ms = clock();
  if (r.ok()) out.result = std::move(*r);
  else out.status = r.status();
  return out;
}

/// What the driving thread waits for: an outcome from a worker thread, or a job an executor
/// reports finished. Any thread may push.
struct Event {
  ActionId action = 0;
  std::optional<Outcome> outcome;
  std::optional<JobResult> job;
};

class EventQueue {
 public:
  void push(Event e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(std::move(e));
    }
    cv_.notify_one();
  }
  /// The next event; nullopt when none came within `timeout`.
  std::optional<Event> wait(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [this] { return !events_.empty(); })) return std::nullopt;
    Event e = std::move(events_.front());
    events_.pop_front();
    return e;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
};

}  // namespace

/// Worker threads, each with its own engine sessions; what they finish goes to the build's
/// event queue. submit() is called by the one thread that drives the build.
class WorkerPool {
 public:
  WorkerPool(const ActionGraph& g, const Engines& engines, EventQueue& events, Clock clock, int n)
      : g_(g), engines_(engines), events_(events), clock_(std::move(clock)), threads_count_(n) {
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
  int size() const { return threads_count_; }
  void submit(Task t) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(t));
    }
    cv_.notify_one();
  }

 private:
  void work() {
    EngineSessions sessions(engines_);
    for (;;) {
      Task t;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
        if (stop_) return;
        t = std::move(tasks_.front());
        tasks_.pop_front();
      }
      Outcome o = execute(g_, t, sessions, clock_);
      events_.push(Event{o.action, std::move(o), std::nullopt});
    }
  }

  const ActionGraph& g_;
  const Engines& engines_;
  EventQueue& events_;
  const Clock clock_;
  const int threads_count_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;
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
  size_t running = 0;       // actions started and not finished (either phase)
  size_t on_threads = 0;    // tasks given to the worker threads and not finished
  bool stopping = false;
  std::vector<uint8_t> marked;  // per action: marked in flight in the state (build protocol)
  // Pools: actions running per engine (against Engine::max_writers) and jobs per executor
  // (against Executor::parallelism), each apart from the others.
  std::map<const void*, int> busy;
  std::map<ActionId, const void*> pool_of;  // of each running action or job
  std::map<ActionId, std::shared_ptr<const PreparedCommand>> commands;  // jobs running
  std::map<ActionId, int64_t> job_started_ms;
  std::deque<Task> to_finish;  // jobs done, waiting for a worker thread
  const Executors* executors = nullptr;
  std::shared_ptr<EventQueue> events = std::make_shared<EventQueue>();
  Clock clock;
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
  Run run;
  run.clock = options.clock ? options.clock : Clock(system_now_ms);
  auto now_ms = run.clock;
  // The local executor runs commands unless the caller gives executors.
  Executors local;
  if (options.executors) {
    run.executors = options.executors;
  } else {
    local.set_default(local.add(make_local_executor(std::max(1, options.jobs))));
    run.executors = &local;
  }
  auto run_id = store_->begin_run(options.command_line, now_ms());
  if (!run_id.ok()) return run_id.status();
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

  WorkerPool pool(g_, engines_, *run.events, run.clock, std::max(1, options.jobs));
  // Jobs still running when the build returns early (a state store error) report to a queue
  // nobody reads; stop them.
  struct AbortOnExit {
    Run& run;
    ~AbortOnExit() {
      if (!run.commands.empty()) run.executors->abort_all();
    }
  } abort_on_exit{run};
  const char* kill_env = std::getenv("DBUILD_TEST_KILL_AFTER_COMMITS");
  long kill_after = kill_env ? std::strtol(kill_env, nullptr, 10) : 0, committed = 0;
  auto release = [&](ActionId a) {
    if (auto p = run.pool_of.find(a); p != run.pool_of.end()) {
      --run.busy[p->second];
      run.pool_of.erase(p);
    }
  };
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
      run.executors->abort_all();  // local groups got the signal already; batch jobs get cancelled
    }
    if (!run.stopping) {
      Status st = start_actions(run, *run_id, options, pool);
      if (!st.ok()) return st;
    }
    start_finishing(run, pool);
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
    std::optional<Event> next = run.events->wait(std::chrono::milliseconds(100));
    if (!next) continue;  // look at the interrupt flag again
    if (next->job) {  // a command's job finished: what follows runs on a worker thread
      ActionId a = next->action;
      release(a);
      auto command = run.commands.extract(a);
      int64_t started = run.job_started_ms[a];
      run.job_started_ms.erase(a);
      if (!next->job->ok() && interrupt_signal() != 0) {
        // Stopped by the interrupt: nothing was moved into place.
        discard_command(*command.mapped());
        --run.running;
        undo_start(a, run);
        finished(a);
        run.progress.last = g_.label(a);
        run.progress.last_failed = false;
        run.progress.last_interrupted = true;
        if (options.on_progress) options.on_progress(run.progress);
        continue;
      }
      run.to_finish.push_back(Task{a, std::move(command.mapped()), std::move(*next->job), started});
      continue;
    }
    Outcome& o = *next->outcome;
    --run.running;
    --run.on_threads;
    release(o.action);
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

Status Evaluator::start_actions(Run& run, uint64_t run_id, const BuildOptions& options, WorkerPool& pool) {
  // Build protocol: before an action's data can commit, its record says an attempt with its
  // new key is in flight. A build killed after the data commit and before the new record
  // leaves that mark, so the next build redoes the partition instead of trusting the old
  // record's key. One commit marks every runnable action (queued ones are in flight too), so
  // a wave of actions costs one sync, not one each; it also writes the records of what
  // finished, so readers never start before the records of their inputs are on disk.
  if (run.runnable.empty()) return Status::Ok();
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
    run.last_flush_ms = run.clock();
    if (!st.ok()) return st;
  }
  // Pools (docs/architecture.md, "Executors"): an engine action takes a worker thread and a
  // place among its engine's max_writers() (0: no limit beyond the threads); a command's job
  // takes a place among its executor's parallelism() and no thread while it runs. An action
  // whose pool is full waits without holding back actions of other pools.
  auto executors_full = [&] {
    for (const auto& e : run.executors->all())
      if (run.busy[e.get()] < e->parallelism()) return false;
    return true;
  };
  auto threads_full = [&] { return run.on_threads + run.to_finish.size() >= static_cast<size_t>(pool.size()); };
  for (auto it = run.runnable.begin(); it != run.runnable.end() && run.marked[*it];) {
    if (threads_full() && executors_full()) break;
    ActionId a = *it;
    const Dataset& ds = g_.model->datasets[g_.dataset_of(a)];
    if (ds.kind == Dataset::Kind::CommandTable) {
      Executor* executor = run.executors->of(ds.id);
      if (executor && run.busy[executor] >= executor->parallelism()) {
        ++it;
        continue;
      }
      it = run.runnable.erase(it);
      ++run.running;
      start_job(a, executor, run, options);
      continue;
    }
    const Engine* engine = engine_of(a);
    int cap = engine ? engine->max_writers() : 0;
    if (threads_full() || (cap > 0 && run.busy[engine] >= cap)) {
      ++it;
      continue;
    }
    it = run.runnable.erase(it);
    ++run.running;
    ++run.on_threads;
    ++run.busy[engine];
    run.pool_of[a] = engine;
    pool.submit(Task{a, nullptr, {}, 0});
  }
  return Status::Ok();
}

void Evaluator::start_job(ActionId a, Executor* executor, Run& run, const BuildOptions& options) {
  auto fail = [&](const Status& st) {  // reported through the queue like any outcome
    Outcome o;
    o.action = a;
    o.status = st;
    o.started_ms = o.finished_ms = run.clock();
    ++run.on_threads;  // the outcome is counted down as a worker's
    run.events->push(Event{a, std::move(o), std::nullopt});
  };
  if (!executor) return fail(Status::Error("no executor runs this command table"));
  auto prepared = prepare_command(g_, a, options.warehouse_for_commands);
  if (!prepared.ok()) return fail(prepared.status());
  auto command = std::make_shared<const PreparedCommand>(std::move(*prepared));
  run.job_started_ms[a] = run.clock();
  std::weak_ptr<EventQueue> events = run.events;
  Status st = executor->start(command->job, [events, a](JobResult r) {
    if (auto q = events.lock()) q->push(Event{a, std::nullopt, std::move(r)});
  });
  if (!st.ok()) {
    run.job_started_ms.erase(a);
    discard_command(*command);
    return fail(st);
  }
  ++run.busy[executor];
  run.pool_of[a] = executor;
  run.commands[a] = std::move(command);
}

void Evaluator::start_finishing(Run& run, WorkerPool& pool) {
  // Finishing a job needs a worker thread, and its engine's place when the output is loaded.
  for (auto it = run.to_finish.begin(); it != run.to_finish.end();) {
    if (run.on_threads >= static_cast<size_t>(pool.size())) break;
    const Engine* engine = engine_of(it->action);
    int cap = engine ? engine->max_writers() : 0;
    if (cap > 0 && run.busy[engine] >= cap) {
      ++it;
      continue;
    }
    ++run.on_threads;
    ++run.busy[engine];
    run.pool_of[it->action] = engine;
    pool.submit(std::move(*it));
    it = run.to_finish.erase(it);
  }
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
