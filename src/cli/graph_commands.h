#pragma once
/// The commands that work on the action graph: build, plan, status, why.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/session.h"

namespace dbuild {

struct BuildFlags {
  int jobs = 0;          // 0: the number of cores
  bool keep_going = false;
  bool force = false;
  bool dry_run = false;
  std::string executor;  // "", "local" or "slurm": where every command table runs
  std::string flush_table;  // `dbuild flush TABLE [--group ID]`: close that waiting group first
  std::string flush_group;
};

int cmd_build(const CommonOptions& common, const SelectOptions& select, const BuildFlags& flags,
              const std::string& command_line);

/// One build run in-process: what `build` does, for callers that print the summary their own
/// way (`watch` builds again and again in one process). Each call opens a fresh session (the
/// rules are read again) and releases the build lock before returning.
struct BuildRun {
  int code = 0;               // the exit code `build` would return
  bool locked = false;        // another build held the lock: nothing ran (the error is printed)
  bool rules_failed = false;  // the rules have errors (printed): nothing ran
  std::optional<exec::BuildSummary> summary;  // set when the build ran (even if actions failed)
  nlohmann::json json;        // with a summary: the object `build --json` prints; with
                              // rules errors: {"diagnostics": [...]} (json_output.h)
};
struct BuildRunOptions {
  bool progress = true;  // the per-action progress lines on stderr
};
/// Runs the build and prints what `build` prints on stderr (failures, removals, interrupts);
/// the summary line (or JSON object) is left to the caller.
BuildRun run_build(const CommonOptions& common, const SelectOptions& select, const BuildFlags& flags,
                   const std::string& command_line, const BuildRunOptions& options = {});
/// The summary line `build` prints: "ran 4, up to date 120, cut off 0, failed 0 in 0.21s".
std::string build_summary_words(const exec::BuildSummary& sum);
int cmd_plan(const CommonOptions& common, const SelectOptions& select, bool force, bool exit_code);
int cmd_status(const CommonOptions& common, const SelectOptions& select);
int cmd_why(const CommonOptions& common, const std::string& target);
int cmd_mark_done(const CommonOptions& common, const SelectOptions& select, const std::string& command_line);
int cmd_verify(const CommonOptions& common, const SelectOptions& select);
int cmd_log(const CommonOptions& common, const std::string& target);

/// Why a partition is stale, in the words `dbuild why` prints ("input changed, definition
/// changed"); a file source's changed input is named by its file.
std::string reasons_in_words(const Session& s, ActionId a, uint32_t reasons);

}  // namespace dbuild
