#include "cli/front_end.h"

#include <cstdio>

#include <fmt/format.h>

#include "base/metrics.h"
#include "model/model_builder.h"

namespace dbuild {

FrontEnd load_front_end(const std::string& dir, const std::map<std::string, std::string>& vars) {
  ScopedMetric metric("front end");
  FrontEnd fe;
  auto root = find_workspace_root(dir);
  if (!root.ok()) {
    fmt::print(stderr, "dbuild: error: {}\n", root.status().message());
    fe.errors = 1;
    return fe;
  }
  fe.workspace = std::make_unique<Workspace>();
  Diagnostics diags;
  load_workspace(*root, *fe.workspace, diags);
  ModelOptions options{vars};
  fe.model = build_model(*fe.workspace, options, diags);
  diags.sort();
  std::string text = render(diags, fe.workspace->files);
  std::fputs(text.c_str(), stderr);
  for (const auto& d : diags.items()) (d.severity == Severity::Error ? fe.errors : fe.warnings)++;
  fe.ok = fe.errors == 0;
  return fe;
}

}  // namespace dbuild
