// Differential tester (docs/reliability.md): random pipelines (differential_pipeline.h) go
// through random edits; after every step the incremental build must leave the same warehouse
// and command outputs as a from-scratch build of the same state, must run exactly the
// partitions the independent reference model says are stale, a second build must run
// nothing, and `dbuild verify` must pass.
//
//   DBUILD_DIFF_SEED=7 DBUILD_DIFF_PIPELINES=50 DBUILD_DIFF_STEPS=40
//       ./build/dbuild_tests -tc='differential: incremental*'
//
// DBUILD_DIFF_EDITS=all (or a comma list of edit kinds, see edit_kind_name) picks the edits;
// DBUILD_DIFF_KEEP=DIR keeps each pipeline's incremental workspace in DIR/seed-N.
#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "differential_pipeline.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace dbuild {
namespace {

using difftest::EditKind;
using difftest::World;

long env_number(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : fallback;
}

/// The edit kinds of DBUILD_DIFF_EDITS ("all", or names separated by commas), else `fallback`.
std::set<EditKind> env_edits(const std::set<EditKind>& fallback) {
  const char* v = std::getenv("DBUILD_DIFF_EDITS");
  if (!v || !*v) return fallback;
  std::set<EditKind> out;
  std::string list = std::string(v) + ",";
  for (int k = 0; k < static_cast<int>(EditKind::Count); ++k) {
    std::string name = difftest::edit_kind_name(static_cast<EditKind>(k));
    if (list == "all," || list.find(name + ",") != std::string::npos) out.insert(static_cast<EditKind>(k));
  }
  return out;
}

std::string names(const std::set<EditKind>& kinds) {
  std::string out;
  for (auto k : kinds) out += std::string(out.empty() ? "" : ",") + difftest::edit_kind_name(k);
  return out;
}

/// Rows of a query on a SQLite file, each as `a|b|c`; empty when the file or table is missing.
std::vector<std::string> query_rows(const std::string& db_path, const std::string& sql) {
  std::vector<std::string> rows;
  if (!fs::exists(db_path)) return rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const unsigned char* t = sqlite3_column_text(stmt, c);
        row += (c ? "|" : "") + (t ? std::string(reinterpret_cast<const char*>(t)) : std::string("NULL"));
      }
      rows.push_back(row);
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

/// Every warehouse table's rows, sorted, and every file under out/: what a build leaves.
std::string build_content(const std::string& dir) {
  std::string out;
  std::string db = dir + "/warehouse.db";
  for (const auto& table : query_rows(db, "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")) {
    auto rows = query_rows(db, "SELECT * FROM \"" + table + "\"");
    std::sort(rows.begin(), rows.end());
    out += "== table " + table + "\n";
    for (const auto& r : rows) out += r + "\n";
  }
  std::set<std::string> files;
  if (fs::exists(dir + "/out"))
    for (const auto& e : fs::recursive_directory_iterator(dir + "/out"))
      if (e.is_regular_file()) files.insert(fs::relative(e.path(), dir).string());
  for (const auto& f : files) out += "== file " + f + "\n" + testing::slurp(dir + "/" + f);
  return out;
}

/// What a build ran, from `build --json`.
struct BuildRun {
  int exit_code = -1;
  std::set<std::string> ran;  // "dataset@partition"
  std::string problem;        // not empty when the output was not the JSON expected
};

BuildRun run_build(const std::string& dir, const std::string& args) {
  BuildRun b;
  auto r = testing::run_command("cd " + dir + " && " + testing::dbuild_binary() + " build -j2 --json " + args +
                                    " 2>" + dir + "/../build.err",
                                false);
  b.exit_code = r.exit_code;
  auto json = nlohmann::json::parse(r.output, nullptr, false);
  if (json.is_discarded() || !json.contains("actions")) {
    b.problem = "no JSON from dbuild build: " + r.output + testing::slurp(dir + "/../build.err");
    return b;
  }
  for (const auto& a : json["actions"]) {
    std::string result = a["result"];
    std::string key = a["dataset"].get<std::string>() + "@" + a["partition"].get<std::string>();
    if (result == "ran") b.ran.insert(key);
    if (result == "failed" || result == "not_run")
      b.problem += key + " " + result + ": " + testing::slurp(dir + "/../build.err") + "\n";
  }
  return b;
}

void write_files(const std::string& dir, const World& w, const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    fs::path full = fs::path(dir) / p;
    fs::create_directories(full.parent_path());
    std::ofstream(full, std::ios::binary) << w.files().at(p);
  }
}

void write_all(const std::string& dir, const World& w) {
  std::vector<std::string> all;
  for (const auto& [p, text] : w.files()) all.push_back(p);
  write_files(dir, w, all);
}

/// The reference's inputs: rows of SQL tables and bytes of command outputs of a clean build.
difftest::Snapshot reference_snapshot(const World& w, const std::string& dir) {
  std::map<std::string, std::string> rows, bytes;
  std::string db = dir + "/warehouse.db";
  for (int d = 0; d < static_cast<int>(w.datasets().size()); ++d) {
    const auto& ds = w.datasets()[d];
    if (ds.kind == difftest::Kind::SqlTable) {
      std::map<std::string, std::vector<std::string>> by_part;
      if (ds.partitioned) {
        for (const auto& r : query_rows(db, "SELECT day, k, v FROM \"" + ds.name + "\""))
          by_part[ds.name + "@" + r.substr(0, r.find('|'))].push_back(r.substr(r.find('|') + 1));
      } else {
        by_part[ds.name + "@"] = query_rows(db, "SELECT k, v FROM \"" + ds.name + "\"");
      }
      for (auto& [key, list] : by_part) {
        std::sort(list.begin(), list.end());
        for (const auto& r : list) rows[key] += r + "\n";
      }
    } else if (ds.kind == difftest::Kind::CommandTable) {
      for (const auto& p : w.partitions(d))
        bytes[ds.name + "@" + p] = testing::slurp(dir + "/out/" + ds.name + "/" + p + ".txt");
    }
  }
  return w.snapshot(rows, bytes);
}

std::string set_text(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += " " + x;
  return out.empty() ? " (none)" : out;
}

/// Why the reference expects `key` to run or not: its view before and after.
std::string explain(const std::string& key, const difftest::Snapshot& before, const difftest::Snapshot& after) {
  auto b = before.find(key), a = after.find(key);
  if (a == after.end()) return "    " + key + ": not a partition of the new state\n";
  if (b == before.end()) return "    " + key + ": new\n";
  std::string out = "    " + key + ": definition " + (b->second.definition == a->second.definition ? "same" : "changed") +
                    ", input set " + (b->second.inputs == a->second.inputs ? "same" : "changed") + ", inputs:";
  for (const auto& in : a->second.inputs) {
    auto ib = before.find(in);
    bool rows = ib != before.end() && ib->second.rows == after.at(in).rows;
    bool bytes = ib != before.end() && ib->second.bytes == after.at(in).bytes;
    out += " " + in + (rows ? "" : " [rows changed]") + (bytes ? "" : " [bytes changed]");
  }
  return out + "\n";
}

std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream ia(a), ib(b);
  std::string la, lb, section;
  for (int line = 1;; ++line) {
    bool ea = !std::getline(ia, la), eb = !std::getline(ib, lb);
    if (ea && eb) return "";
    if (!ea && la.rfind("== ", 0) == 0) section = la;
    if (ea || eb || la != lb)
      return "in " + section + ", line " + std::to_string(line) + ": incremental '" + (ea ? "<end>" : la) +
             "', clean '" + (eb ? "<end>" : lb) + "'";
  }
}

/// Totals over a run, printed at its end.
struct Totals {
  long steps = 0;       // edits applied and checked
  long ran = 0;         // actions the incremental builds ran
  long partitions = 0;  // partitions of the states checked
};

/// The difference between the actions a build ran and the reference's minimal set ("" if none).
std::string compare_runs(const std::set<std::string>& ran, const std::set<std::string>& expected,
                         const difftest::Snapshot& before, const difftest::Snapshot& after) {
  std::set<std::string> missing, extra;
  std::set_difference(expected.begin(), expected.end(), ran.begin(), ran.end(), std::inserter(missing, missing.end()));
  std::set_difference(ran.begin(), ran.end(), expected.begin(), expected.end(), std::inserter(extra, extra.end()));
  if (missing.empty() && extra.empty()) return "";
  std::string out = "the actions run differ from the reference's minimal set\n  expected:" + set_text(expected) +
                    "\n  ran:     " + set_text(ran) + "\n  not run but stale:" + set_text(missing) +
                    "\n  run but not stale:" + set_text(extra) + "\n  reference:\n";
  int shown = 0;
  for (const auto& k : missing) if (shown++ < 6) out += explain(k, before, after);
  for (const auto& k : extra) if (shown++ < 12) out += explain(k, before, after);
  return out;
}

/// Runs `steps` random edits on the pipeline of `seed`; returns the first divergence ("" if none).
/// With `keep_dir`, the incremental workspace is copied to keep_dir/seed-N at the end.
std::string run_pipeline(uint64_t seed, int steps, const std::set<EditKind>& edits, Totals& totals,
                         const std::string& keep_dir) {
  World w(seed);
  testing::TempDir root;
  std::string inc = root / "inc";
  struct Keep {  // copies the workspace out when the pipeline ends, however it ends
    std::string from, to;
    ~Keep() {
      std::error_code ec;
      if (to.empty()) return;
      fs::remove_all(to, ec);
      fs::copy(from, to, fs::copy_options::recursive, ec);
    }
  } keep{inc, keep_dir.empty() ? "" : keep_dir + "/seed-" + std::to_string(seed)};
  write_all(inc, w);
  difftest::Snapshot before;
  std::string header = "seed " + std::to_string(seed) + ", pipeline: " + w.describe() + "\n";
  std::string history;
  for (int step = 0; step <= steps; ++step) {
    std::string what = "initial build";
    if (step > 0) {
      std::vector<std::string> changed, deleted;
      what = w.edit(edits, changed, deleted);
      write_files(inc, w, changed);
      for (const auto& p : deleted) fs::remove(fs::path(inc) / p);
    }
    history += "  step " + std::to_string(step) + ": " + what + "\n";
    std::string where = header + history + "divergence at step " + std::to_string(step) + " (" + what + "): ";
    BuildRun got = run_build(inc, w.var_args());
    if (!got.problem.empty() || got.exit_code != 0)
      return where + "incremental build failed (exit " + std::to_string(got.exit_code) + "): " + got.problem;
    std::string clean = root / ("clean-" + std::to_string(step));
    write_all(clean, w);
    BuildRun scratch = run_build(clean, w.var_args());
    if (!scratch.problem.empty() || scratch.exit_code != 0)
      return where + "clean build failed (exit " + std::to_string(scratch.exit_code) + "): " + scratch.problem;
    std::string want = build_content(clean), have = build_content(inc);
    if (want != have) return where + "the warehouse or outputs differ from a clean build, " + first_difference(have, want);
    difftest::Snapshot after = reference_snapshot(w, clean);
    fs::remove_all(clean);
    std::string runs = compare_runs(got.ran, w.expected_runs(before, after), before, after);
    if (!runs.empty()) return where + runs;
    if (step > 0) {
      ++totals.steps;
      totals.ran += static_cast<long>(got.ran.size());
      totals.partitions += static_cast<long>(after.size());
    }
    BuildRun again = run_build(inc, w.var_args());
    if (!again.ran.empty() || again.exit_code != 0)
      return where + "a second build was not a no-op, it ran" + set_text(again.ran) + " " + again.problem;
    auto verify = testing::run_command("cd " + inc + " && " + testing::dbuild_binary() + " verify " + w.var_args());
    if (verify.exit_code != 0) return where + "dbuild verify failed: " + verify.output;
    before = std::move(after);
  }
  return "";
}

/// Runs DBUILD_DIFF_PIPELINES pipelines (seeds DBUILD_DIFF_SEED, +1, ...) of DBUILD_DIFF_STEPS
/// steps each; fails with the first divergence.
void run_differential(const std::set<EditKind>& default_edits, long default_pipelines, long default_steps) {
  uint64_t seed = static_cast<uint64_t>(env_number("DBUILD_DIFF_SEED", 20261203));
  long pipelines = env_number("DBUILD_DIFF_PIPELINES", default_pipelines);
  long steps = env_number("DBUILD_DIFF_STEPS", default_steps);
  std::set<EditKind> edits = env_edits(default_edits);
  const char* keep = std::getenv("DBUILD_DIFF_KEEP");
  std::string keep_dir = keep ? keep : "";
  REQUIRE_MESSAGE(!edits.empty(), "DBUILD_DIFF_EDITS names no edit kind");
  MESSAGE("differential: seed ", seed, ", ", pipelines, " pipelines of ", steps, " steps, edits ", names(edits));
  Totals totals;
  long diverged = 0;
  for (long i = 0; i < pipelines; ++i) {
    std::string divergence =
        run_pipeline(seed + static_cast<uint64_t>(i), static_cast<int>(steps), edits, totals, keep_dir);
    if (divergence.empty()) continue;
    ++diverged;  // a pipeline stops at its first divergence; the next pipeline goes on
    INFO(divergence);
    CHECK(divergence.empty());
  }
  MESSAGE("differential: seed ", seed, ": ", totals.steps, " steps checked, ", totals.ran, " actions run of ",
          totals.partitions, " partitions, ", diverged, " of ", pipelines, " pipelines diverged");
}

std::set<EditKind> every_edit_but(std::set<EditKind> left_out) {
  std::set<EditKind> out;
  for (int k = 0; k < static_cast<int>(EditKind::Count); ++k)
    if (!left_out.count(static_cast<EditKind>(k))) out.insert(static_cast<EditKind>(k));
  return out;
}

TEST_CASE("differential: incremental builds equal clean builds and run the minimal set") {
  run_differential(every_edit_but({}), 2, 8);
}

// Regression: a `lines` file was fingerprinted by its rows only, so a command reading it did
// not rerun when its lines were reordered and kept a stale output. Commands now count their
// file inputs by their bytes.
TEST_CASE("differential: commands rerun when the lines they read are reordered") {
  run_differential({EditKind::ReorderLines, EditKind::Content}, 2, 6);
}

}  // namespace
}  // namespace dbuild
