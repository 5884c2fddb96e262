#include "cli/check_command.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <set>

#include <fmt/format.h>

#include "cli/engine_factory.h"
#include "cli/front_end.h"
#include "cli/json_output.h"
#include "checking/query_check.h"

namespace fs = std::filesystem;

namespace dbuild {
namespace {

/// `path` resolved (symlinks, `..`), so two spellings of one file compare equal.
std::string resolved(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? path : p.string();
}

/// Prints a usage error (text on stderr, the error object for --json); returns 64.
int usage_error(const std::string& message) {
  fmt::print(stderr, "dbuild: error: {}\n", message);
  json_error(error_code::kUsage, message);
  return 64;
}

/// The diagnostics to report: all, or those in `only` (resolved paths) and those without a
/// location.
std::vector<Diagnostic> reported(const std::vector<Diagnostic>& all, const SourceFiles& files,
                                 const std::set<std::string>& only) {
  std::vector<Diagnostic> out;
  for (const auto& d : all)
    if (only.empty() || d.span.file == kNoFile || only.count(resolved(files.path(d.span.file))))
      out.push_back(d);
  return out;
}

/// Whether the workspace read `path` (resolved) as one of its files.
bool workspace_has(const SourceFiles& files, const std::string& path) {
  for (FileId id = 0; id < files.size(); ++id)
    if (resolved(files.path(id)) == path) return true;
  return false;
}

}  // namespace

int cmd_check(const CommonOptions& common, const CheckOptions& options) {
  bool ok = true;
  auto vars = parse_vars(common.vars, ok);
  if (!ok) return 64;
  bool as_json = options.format == "json";
  std::set<std::string> only;
  for (const auto& f : options.files) {
    std::error_code ec;
    bool is_stdin = !options.stdin_path.empty() && resolved(f) == resolved(options.stdin_path);
    if (!is_stdin && !fs::exists(f, ec)) return usage_error(fmt::format("{}: no such file", f));
    only.insert(resolved(f));
  }
  FrontEndOptions fe_options;
  fe_options.print_diagnostics = false;
  if (!options.stdin_path.empty()) {
    // Standard input stands for the file: an editor's unsaved buffer, a file not yet written.
    std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    std::error_code ec;
    fe_options.load.overrides[fs::absolute(options.stdin_path, ec).lexically_normal().string()] = std::move(text);
    if (options.files.empty()) only.insert(resolved(options.stdin_path));
  }
  FrontEnd fe = load_front_end(common.dir, vars, fe_options);
  if (!fe.workspace) {
    json_front_end_error(fe);
    return 1;
  }
  if (!options.stdin_path.empty() && !workspace_has(fe.workspace->files, resolved(options.stdin_path)))
    return usage_error(fmt::format(
        "--stdin-path {}: not a rule file of the workspace at {} (a *.dbuild file below it, outside hidden "
        "directories and nested workspaces)",
        options.stdin_path, fe.workspace->root));
  std::vector<Diagnostic> all = fe.diagnostics.items();
  if (fe.ok) {
    // The engine pass: prepare every query against the shapes its inputs produce.
    Diagnostics diags;
    const Model& m = fe.model;
    auto engines = open_engines(m, warehouse_path(m));
    exec::check_queries(m, *engines, diags);
    diags.sort();
    all.insert(all.end(), diags.items().begin(), diags.items().end());
  }
  std::vector<Diagnostic> shown = reported(all, fe.workspace->files, only);
  size_t errors = 0, warnings = 0;
  for (const auto& d : shown) (d.severity == Severity::Error ? errors : warnings)++;
  if (as_json) {
    print_json({{"diagnostics", diagnostics_json(shown, fe.workspace->files)},
                {"errors", errors},
                {"warnings", warnings}});
  } else {
    for (const auto& d : shown) std::fputs(render(d, fe.workspace->files).c_str(), stderr);
    if (errors) fmt::print(stderr, "{} error{} found\n", errors, errors == 1 ? "" : "s");
  }
  return errors ? 1 : 0;
}

}  // namespace dbuild
