#include "cli/front_end.h"

#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "base/metrics.h"
#include "cli/json_output.h"
#include "model/model_builder.h"

namespace dbuild {

FrontEnd load_front_end(const std::string& dir, const std::map<std::string, std::string>& vars,
                        const FrontEndOptions& options) {
  ScopedMetric metric("front end");
  FrontEnd fe;
  auto root = find_workspace_root(dir);
  if (!root.ok()) {
    fmt::print(stderr, "dbuild: error: {}\n", root.status().message());
    std::error_code ec;
    fe.error_code = std::filesystem::is_directory(dir, ec) ? error_code::kNoWorkspace : error_code::kNoDirectory;
    fe.error = root.status().message();
    fe.errors = 1;
    return fe;
  }
  fe.workspace = std::make_unique<Workspace>();
  load_workspace(*root, *fe.workspace, fe.diagnostics, options.load);
  ModelOptions model_options{vars};
  fe.model = build_model(*fe.workspace, model_options, fe.diagnostics);
  fe.diagnostics.sort();
  if (options.print_diagnostics) std::fputs(render(fe.diagnostics, fe.workspace->files).c_str(), stderr);
  for (const auto& d : fe.diagnostics.items()) (d.severity == Severity::Error ? fe.errors : fe.warnings)++;
  fe.ok = fe.errors == 0;
  return fe;
}

void json_front_end_error(const FrontEnd& fe) {
  if (!fe.workspace) {
    json_error(fe.error_code, fe.error);
    return;
  }
  json_error(error_code::kRulesError,
             fmt::format("{} error{} in the rules", fe.errors, fe.errors == 1 ? "" : "s"),
             diagnostics_json(fe.diagnostics.items(), fe.workspace->files));
}

}  // namespace dbuild
