#pragma once
/// The commands that work on the action graph: build, plan, status, why.
#include <string>

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
