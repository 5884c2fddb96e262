#pragma once
/// Loads a workspace and builds its model, printing diagnostics: the shared first step of
/// every command.
#include <map>
#include <memory>
#include <string>

#include "model/model.h"
#include "model/workspace.h"

namespace dbuild {

struct FrontEnd {
  std::unique_ptr<Workspace> workspace;
  Model model;
  bool ok = false;
  size_t errors = 0;
  size_t warnings = 0;
  Diagnostics diagnostics;  // what the front end found, sorted (files in `workspace->files`)
  std::string error_code;   // when there is no workspace: error_code::kNoDirectory or kNoWorkspace
  std::string error;        // ... and the message
};

struct FrontEndOptions {
  bool print_diagnostics = true;  // render them on stderr (`check` prints them itself)
  WorkspaceLoadOptions load;
};

/// Finds the workspace from `dir`, parses and checks it. Diagnostics go to stderr unless
/// `options` says otherwise; a missing workspace is always printed there.
FrontEnd load_front_end(const std::string& dir, const std::map<std::string, std::string>& vars,
                        const FrontEndOptions& options = {});

/// For a --json command whose front end failed: the error object (json_error()), with the
/// diagnostics when the rules have errors.
void json_front_end_error(const FrontEnd& fe);

}  // namespace dbuild
