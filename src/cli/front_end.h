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
};

/// Finds the workspace from `dir`, parses and checks it. Diagnostics go to stderr.
FrontEnd load_front_end(const std::string& dir, const std::map<std::string, std::string>& vars);

}  // namespace dbuild
