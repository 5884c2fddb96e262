// The evaluator against fakes: an in-memory engine, an executor that completes jobs as a test
// says, and a clock that moves only when a job "runs". They show the scheduler's pools, how
// time is recorded, and what happens to jobs that fail, are lost or are interrupted, without
// a process, a database or a cluster.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "base/interrupt.h"
#include "cli/front_end.h"
#include "eval/engine_lister.h"
#include "eval/evaluator.h"
#include "test_util.h"

namespace dbuild::exec {
namespace {

using testing::TempDir;

/// Time that moves only when told.
struct FakeClock {
  std::atomic<int64_t> now{1'000'000};
  Clock clock() {
    return [this] { return now.load(); };
  }
};

/// Counts how many calls are inside at once, and the most ever.
struct Concurrency {
  std::atomic<int> now{0}, most{0};
  void enter() {
    int n = ++now;
    for (int m = most.load(); n > m && !most.compare_exchange_weak(m, n);) {
    }
  }
  void leave() { --now; }
};

/// An engine keeping each partition's fingerprint in memory. A write takes a few real
/// milliseconds, so that writes that may overlap do.
struct FakeStore {
  std::mutex mu;
  std::map<std::string, std::map<std::string, WriteResult>> tables;  // table -> key text -> result
  Concurrency writes;
  std::atomic<int> write_count{0};
};

std::string key_text(const std::vector<KeyColumn>& keys) {
  std::string out;
  for (const auto& k : keys) out += k.name + "=" + format_value(k.value) + ";";
  return out;
}

class FakeSession final : public EngineSession {
 public:
  explicit FakeSession(FakeStore& s) : s_(s) {}
  Result<WriteResult> load_partition(const std::string& table, const std::vector<KeyColumn>& keys, const LoadSpec&,
                                     const std::string& file_path) override {
    return write(table, keys, testing::slurp(file_path));
  }
  /// The result depends on the query, the partition and what it reads, as a real one would.
  Result<WriteResult> write_query_partition(const QuerySpec& q) override {
    std::string content = q.sql + key_text(q.keys);
    {
      std::lock_guard<std::mutex> lock(s_.mu);
      for (const InputView& in : q.inputs) {
        const auto& stored = s_.tables[in.source_table.empty() ? in.table : in.source_table];
        for (const auto& tuple : in.partitions) {
          std::vector<KeyColumn> keys;
          for (size_t i = 0; i < tuple.size(); ++i) keys.push_back({in.key_columns[i], tuple[i]});
          auto p = stored.find(key_text(keys));
          content += p == stored.end() ? "-" : p->second.fingerprint.hex();
        }
      }
    }
    return write(q.table, q.keys, content);
  }
  Result<WriteResult> fingerprint_partition(const std::string& table, const std::vector<KeyColumn>& keys) override {
    std::lock_guard<std::mutex> lock(s_.mu);
    auto t = s_.tables.find(table);
    if (t == s_.tables.end()) return Status::Error("no such table " + table);
    auto p = t->second.find(key_text(keys));
    if (p == t->second.end()) return WriteResult{0, Hash128{}, 0, {}};
    return p->second;
  }
  Status delete_partition(const std::string& table, const std::vector<KeyColumn>& keys) override {
    std::lock_guard<std::mutex> lock(s_.mu);
    s_.tables[table].erase(key_text(keys));
    return Status::Ok();
  }
  Result<bool> table_exists(const std::string& table) override {
    std::lock_guard<std::mutex> lock(s_.mu);
    return s_.tables.count(table) > 0;
  }
  Result<std::vector<std::vector<Value>>> list_partitions(const std::string&, const std::vector<std::string>&) override {
    return Status::Error("not in the fake");
  }
  Result<int64_t> count_nulls(const std::string&, const std::string&) override { return Status::Error("not in the fake"); }
  Result<std::vector<std::string>> table_columns(const std::string&) override { return std::vector<std::string>{}; }
  Result<PreparedInfo> prepare(const std::string&, SqlError*) override { return Status::Error("not in the fake"); }
  Status create_scratch_table(const std::string&, const RowSet&) override { return Status::Error("not in the fake"); }
  Result<RowSet> run_select(const std::string&, const std::vector<Value>&) override {
    return Status::Error("not in the fake");
  }

 private:
  Result<WriteResult> write(const std::string& table, const std::vector<KeyColumn>& keys, const std::string& content) {
    s_.writes.enter();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    s_.writes.leave();
    ++s_.write_count;
    WriteResult w;
    w.rows = 1;
    w.fingerprint = hash_bytes(content);
    std::lock_guard<std::mutex> lock(s_.mu);
    s_.tables[table][key_text(keys)] = w;
    return w;
  }
  FakeStore& s_;
};

class FakeEngine final : public Engine {
 public:
  FakeEngine(FakeStore& s, int max_writers) : s_(s), max_writers_(max_writers) {}
  std::string kind() const override { return "fake"; }
  std::string describe() const override { return "the fake engine"; }
  int max_writers() const override { return max_writers_; }
  Result<std::unique_ptr<EngineSession>> open() override { return std::unique_ptr<EngineSession>(new FakeSession(s_)); }
  Result<std::unique_ptr<EngineSession>> open_scratch() override { return open(); }
  std::string placeholder(size_t index, const Value&) const override { return "?" + std::to_string(index + 1); }

 private:
  FakeStore& s_;
  int max_writers_;
};

/// Completes jobs on its own thread: writes the output the job's environment names, moves the
/// clock by `job_ms`, and reports the exit code or error the test set for the job's name.
/// With `hold`, jobs finish only when abort_all() is called.
class FakeExecutor final : public Executor {
 public:
  FakeExecutor(int parallelism, FakeClock& clock) : parallelism_(parallelism), clock_(clock) {
    thread_ = std::thread([this] { loop(); });
  }
  ~FakeExecutor() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  std::string kind() const override { return "fake"; }
  std::string describe() const override { return "the fake executor"; }
  int parallelism() const override { return parallelism_; }
  Status start(const Job& job, JobDone done) override {
    running.enter();
    std::lock_guard<std::mutex> lock(mu_);
    started.push_back(job.name);
    queue_.push_back({job, std::move(done)});
    cv_.notify_all();
    return Status::Ok();
  }
  void abort_all() override {
    std::lock_guard<std::mutex> lock(mu_);
    aborted = true;
    cv_.notify_all();
  }

  std::map<std::string, int> exit_codes;      // by job name; default 0
  std::map<std::string, std::string> errors;  // by job name: reported as not run to the end
  int64_t job_ms = 1000;
  bool hold = false;
  std::atomic<bool> aborted{false};
  Concurrency running;
  std::vector<std::string> started;  // job names, in start order

 private:
  void loop() {
    for (;;) {
      std::pair<Job, JobDone> next;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || (!queue_.empty() && (!hold || aborted)); });
        if (stop_) return;
        next = std::move(queue_.front());
        queue_.pop_front();
      }
      // Let the scheduler start what it may before this job ends.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      const Job& job = next.first;
      JobResult r;
      r.tag = job.tag;
      if (aborted) {
        r.exit_code = 128 + SIGTERM;
      } else if (errors.count(job.name)) {
        r.error = errors.at(job.name);
      } else {
        for (const std::string& e : job.env)
          if (e.starts_with("DBUILD_OUTPUT=")) std::ofstream(job.dir + "/" + e.substr(14)) << "output of " << job.name;
        clock_.now += job_ms;
        r.exit_code = exit_codes.count(job.name) ? exit_codes.at(job.name) : 0;
      }
      running.leave();
      next.second(std::move(r));
    }
  }

  const int parallelism_;
  FakeClock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Job, JobDone>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

/// Six days of `raw` files, `agg` a query per day on the fake engine, `sim` a command per day.
struct Fixture {
  TempDir dir;
  FrontEnd fe;
  FakeStore data;
  FakeClock clock;
  Engines engines;
  std::unique_ptr<ActionGraph> graph;
  std::unique_ptr<StateStore> store;
  Executors executors;
  FakeExecutor* executor = nullptr;

  Fixture(int executor_parallelism, int engine_writers) {
    dir.write("workspace.dbuild", R"(
source raw { path = "raw/{day}.txt" format = lines partition day: int }
table agg {
  partition day: int
  input raw[day]
  sql """select count(*) as n from raw"""
}
table sim {
  partition day: int
  input agg[day]
  command """simulate {{ day }} > {{ output }}"""
  output "out/{day}.txt"
}
)");
    for (int d = 1; d <= 6; ++d) dir.write(fmt::format("raw/{}.txt", d), fmt::format("line {}\n", d));
    fe = load_front_end(dir.path(), {});
    REQUIRE(fe.ok);
    engines.set_default(std::make_unique<FakeEngine>(data, engine_writers));
    EngineLister lister(engines, fe.model);
    auto g = build_action_graph(fe.model, lister);
    REQUIRE(g.ok());
    graph = std::make_unique<ActionGraph>(std::move(*g));
    std::filesystem::create_directories(dir / ".dbuild/state");
    std::string notice;
    auto s = StateStore::open_or_reset(dir / ".dbuild/state", &notice);
    REQUIRE(s.ok());
    store = std::move(*s);
    auto e = std::make_unique<FakeExecutor>(executor_parallelism, clock);
    executor = e.get();
    executors.set_default(executors.add(std::move(e)));
  }

  Result<BuildSummary> build(int jobs, bool force = false, Evaluator** out = nullptr) {
    static thread_local std::unique_ptr<Evaluator> ev;
    ev = std::make_unique<Evaluator>(*graph, store.get(), engines);
    if (out) *out = ev.get();
    BuildOptions o;
    o.jobs = jobs;
    o.force = force;
    o.keep_going = true;
    o.executors = &executors;
    o.clock = clock.clock();
    return ev->build(std::vector<uint8_t>(graph->size(), 1), o);
  }

  std::optional<PartitionRecord> record(const std::string& ds, const std::string& partition) {
    auto txn = store->read();
    REQUIRE(txn.ok());
    auto r = txn->partition(ds, partition);
    REQUIRE(r.ok());
    return *r;
  }
};

TEST_CASE("evaluator: commands run on their executor up to its parallelism, apart from the worker threads") {
  Fixture f(3, 0);
  auto sum = f.build(1);  // one worker thread for engine work
  REQUIRE(sum.ok());
  CHECK(sum->ran == 18);
  CHECK(sum->failed == 0);
  CHECK(f.executor->started.size() == 6);
  // Jobs hold no worker thread: three ran at once although the build has one thread.
  CHECK(f.executor->running.most == 3);
  CHECK(f.data.writes.most == 1);
  CHECK(testing::slurp(f.dir / "out/4.txt") == "output of sim@4");
}

TEST_CASE("evaluator: an engine's max_writers caps its actions while the executor keeps its own pool") {
  Fixture f(1, 2);
  auto sum = f.build(4);
  REQUIRE(sum.ok());
  CHECK(sum->ran == 18);
  CHECK(f.data.writes.most <= 2);
  CHECK(f.data.writes.most >= 1);
  CHECK(f.executor->running.most == 1);
}

TEST_CASE("evaluator: an action's recorded times come from the clock") {
  Fixture f(1, 0);
  f.executor->job_ms = 5000;
  int64_t before = f.clock.now;
  auto sum = f.build(2);
  REQUIRE(sum.ok());
  auto r = f.record("sim", "3");
  REQUIRE(r);
  CHECK(r->duration_ms == 5000);
  CHECK(r->started_unix_ms >= before);
  CHECK(r->finished_unix_ms - r->started_unix_ms == 5000);
  auto q = f.record("agg", "3");  // engine work moves no fake time
  REQUIRE(q);
  CHECK(q->duration_ms == 0);
}

TEST_CASE("evaluator: a job the executor reports lost fails with its reason, keeps the old output, and runs again") {
  Fixture f(2, 0);
  REQUIRE(f.build(2).ok());
  auto before = f.record("sim", "2");
  REQUIRE(before);
  f.executor->errors["sim@2"] = "SLURM job 17 was lost: neither squeue nor scontrol knows it any more";
  f.dir.write("raw/2.txt", "line 2, changed\n");
  Evaluator* ev = nullptr;
  auto sum = f.build(2, false, &ev);
  REQUIRE(sum.ok());
  CHECK(sum->failed == 1);
  ActionId a = f.graph->first_action[f.fe.model.find("sim")->id] + 1;
  CHECK(ev->info()[a].state == ActionState::kFailed);
  CHECK(ev->error(a).find("was lost") != std::string::npos);
  CHECK(testing::slurp(f.dir / "out/2.txt") == "output of sim@2");  // the old output stays
  auto after = f.record("sim", "2");
  REQUIRE(after);
  CHECK(after->fingerprint == before->fingerprint);
  CHECK(after->status == PartitionStatus::kFailed);
  // The next build runs it again, and only it.
  f.executor->errors.clear();
  f.executor->started.clear();
  auto again = f.build(2);
  REQUIRE(again.ok());
  CHECK(again->ran == 1);
  CHECK(f.executor->started == std::vector<std::string>{"sim@2"});
}

TEST_CASE("evaluator: a failing job fails its partition only, with its exit status") {
  Fixture f(2, 0);
  f.executor->exit_codes["sim@5"] = 3;
  Evaluator* ev = nullptr;
  auto sum = f.build(2, false, &ev);
  REQUIRE(sum.ok());
  CHECK(sum->failed == 1);
  CHECK(sum->ran == 17);
  ActionId a = f.graph->first_action[f.fe.model.find("sim")->id] + 4;
  CHECK(ev->error(a).find("exited with status 3") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(f.dir / "out/5.txt"));
  CHECK_FALSE(std::filesystem::exists(f.dir / "out/5.txt.dbuild-tmp"));
}

TEST_CASE("evaluator: an interrupt aborts the executor's jobs and rolls them back") {
  Fixture f(4, 0);
  f.executor->hold = true;  // jobs end only when aborted
  std::thread interrupter([&] {
    while (f.executor->running.now < 4) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    request_interrupt(SIGINT);
  });
  auto sum = f.build(2);
  interrupter.join();
  clear_interrupt();
  REQUIRE(sum.ok());
  CHECK(f.executor->aborted);
  CHECK(sum->interrupted_by == SIGINT);
  CHECK(sum->rolled_back == 4);
  CHECK(sum->not_run == 6);  // the four rolled back and the two never started
  for (int d = 1; d <= 6; ++d) {
    CHECK_FALSE(std::filesystem::exists(f.dir / fmt::format("out/{}.txt", d)));
    CHECK_FALSE(std::filesystem::exists(f.dir / fmt::format("out/{}.txt.dbuild-tmp", d)));
  }
  CHECK_FALSE(f.record("sim", "1"));
}

}  // namespace
}  // namespace dbuild::exec
