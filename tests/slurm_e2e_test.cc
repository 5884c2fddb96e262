// Command tables on a real one-node SLURM cluster (scripts/slurm): the same bytes as a local
// build, failures and cancellations that come back as failures, a killed coordinator that
// converges, and an interrupt that cancels the jobs.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "test_slurm.h"
#include "test_util.h"

namespace dbuild {
namespace {

using testing::DbuildIn;
using testing::run_command;
using testing::slurp;
using testing::TempDir;

/// Six days of seeds; `sim` (a command per day) sums each day's file, `report` (a command per
/// day reading `sim`) decorates it, `totals` loads `sim`'s outputs as csv for a query. `slow`
/// makes sim@2 wait for a file that never comes; `fail` makes sim@5 exit 3.
void write_pipeline(const TempDir& dir, const std::string& executor) {
  dir.write("workspace.dbuild", fmt::format(R"(
workspace {{
  executor = {}
  slurm {{ queue = "debug" time = 10m mem = 100MB }}
}}
source seeds {{ path = "seeds/{{day}}.csv" format = csv partition day: int }}
table sim {{
  partition day: int
  input seeds[day]
  command """
    if [ {{{{ day }}}} = 2 ] && [ -f slow ]; then while [ ! -f never ]; do sleep 0.2; done; fi
    if [ {{{{ day }}}} = 5 ] && [ -f fail ]; then echo "day 5 refuses" >&2; exit 3; fi
    if [ -f sleepy ]; then sleep 2; fi
    echo "running day {{{{ day }}}}"
    awk -F, 'NR > 1 {{ s += $2 }} END {{ print "d,total"; print {{{{ day }}}} "," s }}' seeds/$DBUILD_PARTITION.csv > {{{{ output }}}}
  """
  output "out/sim/{{day}}.csv"
  format = csv
}}
table report {{
  partition day: int
  input sim[day]
  slurm {{ cpus = 1 time = 5m }}
  command """sed 's/^/report: /' out/sim/$DBUILD_PARTITION.csv > {{{{ output }}}}"""
  output "out/report/{{day}}.txt"
}}
table totals {{
  input sim[*]
  sql "SELECT sum(total) AS grand_total, count(*) AS days FROM sim"
}}
)",
                                            executor));
  for (int d = 1; d <= 6; ++d) {
    std::string rows = "id,value\n";
    for (int i = 0; i < 50; ++i) rows += fmt::format("{},{}\n", i, (i * 7 + d * 13) % 101);
    dir.write(fmt::format("seeds/{}.csv", d), rows);
  }
}

std::string slurm_conf_or_fail() {
  auto conf = testing::slurm_conf();
  REQUIRE_MESSAGE(conf.ok(), conf.status().message());
  return *conf;
}

/// Every file under `dir`/out, path -> bytes.
std::map<std::string, std::string> outputs(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir + "/out"))
    if (e.is_regular_file()) out[std::filesystem::relative(e.path(), dir).string()] = slurp(e.path().string());
  return out;
}

std::vector<std::string> submitted_jobs(const std::string& dir) {
  std::ifstream in(dir + "/.dbuild/slurm/submitted");
  std::vector<std::string> ids;
  for (std::string id; in >> id;) ids.push_back(id);
  return ids;
}

/// squeue's state of job `id` ("" once it is gone).
std::string job_state(const std::string& env, const std::string& id) {
  auto r = run_command(env + " squeue --noheader --states=all --format=%T --jobs=" + id + " 2>/dev/null", false);
  std::string s = r.output;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

/// Starts `dbuild build` in the background; returns its pid. stdout and stderr go to files
/// beside `dir`.
pid_t start_build(const std::string& dir, const std::string& env, const std::string& args = "") {
  auto r = run_command(fmt::format("cd {} && ({} {} build {} >{}.out 2>{}.err & echo $!)", dir, env,
                                   testing::dbuild_binary(), args, dir, dir));
  return static_cast<pid_t>(std::stol(r.output));
}

/// Waits up to `seconds` for `pred`.
template <typename Pred>
bool wait_for(Pred pred, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

/// The id of the job named `name` that the build in `dir` submitted, once SLURM runs it; ""
/// when none runs within a minute.
std::string running_job(const std::string& env, const std::string& dir, const std::string& name) {
  std::string id;
  wait_for(
      [&] {
        for (const auto& j : submitted_jobs(dir)) {
          auto r = run_command(env + " scontrol --oneliner show job " + j + " 2>/dev/null", false);
          if (r.output.find("JobName=" + name + " ") != std::string::npos &&
              r.output.find("JobState=RUNNING") != std::string::npos)
            id = j;
        }
        return !id.empty();
      },
      60);
  return id;
}

/// Writes the pipeline with sim@2 waiting forever, starts `build -k` on SLURM, and waits until
/// sim@2's job runs: the build's pid and that job's id.
std::pair<pid_t, std::string> start_build_waiting_on_sim2(const TempDir& dir, const std::string& env) {
  write_pipeline(dir, "slurm");
  dir.write("slow", "");
  pid_t pid = start_build(dir.path(), env, "-k");
  std::string id = running_job(env, dir.path(), "sim@2");
  REQUIRE(!id.empty());
  return {pid, id};
}

int wait_exit(pid_t pid) {
  // Not our child (the shell started it): wait until it is gone.
  wait_for([&] { return ::kill(pid, 0) != 0; }, 60);
  return 0;
}

TEST_CASE("slurm: a command pipeline built on SLURM has the same bytes as built locally") {
  std::string env = testing::slurm_env(slurm_conf_or_fail());
  TempDir local, cluster;
  write_pipeline(local, "local");
  write_pipeline(cluster, "slurm");
  DbuildIn l{local.path()}, c{cluster.path()};
  l.run("build");
  REQUIRE_MESSAGE(l.code == 0, l.err);
  c.run("build", env);
  REQUIRE_MESSAGE(c.code == 0, c.err);
  auto a = outputs(local.path()), b = outputs(cluster.path());
  CHECK(a.size() == 12);
  CHECK(a == b);
  // The jobs did go through the cluster: twelve submitted, and one of them is known to SLURM
  // by its partition's name (or already purged, after MinJobAge).
  auto ids = submitted_jobs(cluster.path());
  CHECK(ids.size() == 12);
  CHECK(c.run("log sim@3").find("running day '3'") != std::string::npos);
  // The loaded outputs give the same rows to a query, and a second build does nothing.
  auto q = "status --json";
  CHECK(nlohmann::json::parse(l.run(q))["counts"] == nlohmann::json::parse(c.run(q, env))["counts"]);
  std::string again = c.run("build --json", env);
  REQUIRE(c.code == 0);
  CHECK(nlohmann::json::parse(again)["ran"] == 0);
  CHECK(submitted_jobs(cluster.path()).size() == 0);  // nothing was submitted, nothing left over
  // --executor local overrides the rules, and --executor slurm runs a local pipeline there.
  local.write("seeds/4.csv", "id,value\n1,1000\n");
  cluster.write("seeds/4.csv", "id,value\n1,1000\n");
  l.run("build --executor slurm", env);
  REQUIRE_MESSAGE(l.code == 0, l.err);
  CHECK(submitted_jobs(local.path()).size() == 2);  // sim@4 and report@4
  c.run("build --executor local", env);
  REQUIRE_MESSAGE(c.code == 0, c.err);
  CHECK(submitted_jobs(cluster.path()).size() == 0);
  CHECK(outputs(local.path()) == outputs(cluster.path()));
  CHECK(slurp(cluster.path() + "/out/report/4.txt") == "report: d,total\nreport: 4,1000\n");
}

TEST_CASE("slurm: a failing job's exit status and log come back from the node, and the old output stays") {
  std::string env = testing::slurm_env(slurm_conf_or_fail());
  TempDir dir;
  write_pipeline(dir, "slurm");
  DbuildIn d{dir.path()};
  d.run("build", env);
  REQUIRE_MESSAGE(d.code == 0, d.err);
  std::string before = slurp(dir.path() + "/out/sim/5.csv");
  dir.write("fail", "");
  dir.write("seeds/5.csv", "id,value\n1,1\n");
  d.run("build -k", env);
  CHECK(d.code == 1);
  CHECK_MESSAGE(d.err.find("sim@5 failed: the command exited with status 3") != std::string::npos, d.err);
  CHECK(d.err.find("day 5 refuses") != std::string::npos);
  CHECK(d.run("log sim@5").find("day 5 refuses") != std::string::npos);
  CHECK(slurp(dir.path() + "/out/sim/5.csv") == before);
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/out/sim/5.csv.dbuild-tmp"));
  std::remove((dir.path() + "/fail").c_str());
  auto j = nlohmann::json::parse(d.run("build --json", env));
  CHECK(d.code == 0);
  CHECK(testing::with_result(j, "ran") == std::set<std::string>{"sim@5", "report@5", "totals"});
}

TEST_CASE("slurm: a job cancelled behind dbuild's back is a failure that says so, and runs again next time") {
  std::string env = testing::slurm_env(slurm_conf_or_fail());
  TempDir dir;
  auto [pid, id] = start_build_waiting_on_sim2(dir, env);
  run_command(env + " scancel " + id);
  wait_exit(pid);
  std::string err = slurp(dir.path() + ".err");
  CHECK_MESSAGE(err.find(fmt::format("sim@2 failed: SLURM job {} ended as CANCELLED: it was cancelled", id)) !=
                    std::string::npos,
                err);
  // The rest went on (-k); report@2 and totals did not run.
  std::string out = slurp(dir.path() + ".out");
  CHECK_MESSAGE(out.find("dbuild: ran 16, up to date 0, cut off 0, failed 1, not run 2") != std::string::npos, out);
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/out/sim/2.csv"));
  std::remove((dir.path() + "/slow").c_str());
  DbuildIn d{dir.path()};
  auto j = nlohmann::json::parse(d.run("build --json", env));
  CHECK_MESSAGE(d.code == 0, d.err);
  CHECK(testing::with_result(j, "ran") == std::set<std::string>{"sim@2", "report@2", "totals"});
}

TEST_CASE("slurm: a coordinator killed mid-build leaves jobs that the next build cancels, and it converges") {
  std::string env = testing::slurm_env(slurm_conf_or_fail());
  TempDir dir;
  write_pipeline(dir, "slurm");
  dir.write("sleepy", "");
  pid_t pid = start_build(dir.path(), env);
  REQUIRE(wait_for([&] { return submitted_jobs(dir.path()).size() >= 2; }, 60));
  std::vector<std::string> orphans = submitted_jobs(dir.path());
  ::kill(pid, SIGKILL);
  wait_exit(pid);
  DbuildIn d{dir.path()};
  d.run("build", env);
  CHECK_MESSAGE(d.code == 0, d.err);
  CHECK_MESSAGE(d.err.find("SLURM job") != std::string::npos, d.err);
  CHECK(d.err.find("that a killed build left queued or running") != std::string::npos);
  for (const auto& id : orphans) {
    std::string state = job_state(env, id);
    CHECK_MESSAGE((state.empty() || state == "CANCELLED" || state == "COMPLETED"), std::string(id + " is " + state));
  }
  // Converged: every output right, nothing stale, nothing left behind.
  TempDir reference;
  write_pipeline(reference, "local");
  DbuildIn r{reference.path()};
  r.run("build");
  REQUIRE(r.code == 0);
  CHECK(outputs(dir.path()) == outputs(reference.path()));
  d.run("plan --exit-code", env);
  CHECK(d.code == 0);
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path() + "/out"))
    CHECK(e.path().string().find(".dbuild-tmp") == std::string::npos);
}

TEST_CASE("slurm: Ctrl-C cancels the running jobs and records nothing of them") {
  std::string env = testing::slurm_env(slurm_conf_or_fail());
  TempDir dir;
  auto [pid, id] = start_build_waiting_on_sim2(dir, env);
  ::kill(pid, SIGINT);
  wait_exit(pid);
  std::string err = slurp(dir.path() + ".err");
  CHECK_MESSAGE(err.find("interrupted") != std::string::npos, err);
  std::string state = job_state(env, id);
  CHECK_MESSAGE((state.empty() || state == "CANCELLED"), state);
  DbuildIn d{dir.path()};
  std::string why = d.run("why sim@2");
  CHECK_MESSAGE(why.find("never built") != std::string::npos, why);
}

TEST_CASE("slurm: without SLURM's commands a build refuses before running anything, and says what to do") {
  TempDir dir;
  write_pipeline(dir, "slurm");
  DbuildIn d{dir.path()};
  d.run("build", "PATH=/nonexistent");
  CHECK(d.code == 1);
  CHECK_MESSAGE(d.err.find("the slurm executor needs SLURM's commands (sbatch, squeue, scontrol, scancel) in PATH") !=
                    std::string::npos,
                d.err);
  CHECK(d.err.find("--executor local") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/out"));
}

}  // namespace
}  // namespace dbuild
