#pragma once
/// Builds the checked Model from a workspace's syntax trees: resolves names across files
/// and imports; checks key types, mappings, templates, checks, tests, duplicate definitions,
/// unknown tables and variables without values; orders datasets topologically and reports
/// dependency cycles with their path. Every problem becomes a diagnostic with a span.
#include <map>
#include <string>

#include "base/diagnostic.h"
#include "model/model.h"
#include "model/workspace.h"

namespace dbuild {

struct ModelOptions {
  std::map<std::string, std::string> vars;  // --var NAME=VALUE
};

/// REQUIRES: load_workspace() filled `ws`. Reads `sql file` texts into ws.files.
/// The model is complete only when `diags` has no errors.
Model build_model(Workspace& ws, const ModelOptions& options, Diagnostics& diags);

/// Edit-distance suggestion among `candidates` ("" when none is close).
std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace dbuild
