#include "model/workspace.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <unistd.h>

#include "syntax/rules_parser.h"

namespace fs = std::filesystem;

namespace dbuild {

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string display_path(const std::string& path) {
  std::error_code ec;
  fs::path cwd = fs::current_path(ec);
  if (ec) return path;
  fs::path rel = fs::path(path).lexically_relative(cwd);
  if (rel.empty() || *rel.begin() == "..") return path;
  return rel.string();
}

Result<std::string> find_workspace_root(const std::string& start) {
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec);
  if (ec || !fs::is_directory(dir, ec))
    return Status::Error(fmt::format("{} is not a directory", start));
  dir = dir.lexically_normal();
  for (fs::path d = dir;; d = d.parent_path()) {
    if (fs::exists(d / kWorkspaceFile, ec)) {
      std::string s = d.string();
      if (s.size() > 1 && s.back() == '/') s.pop_back();
      return s;
    }
    if (d == d.root_path() || d.parent_path() == d) break;
  }
  return Status::Error(fmt::format(
      "no {} found in {} or any parent directory; create one at the root of your pipeline "
      "(it may be empty), or pass -C DIR",
      kWorkspaceFile, dir.string()));
}

std::string stdlib_dir() {
  if (const char* env = std::getenv("DBUILD_STDLIB"); env && *env) return env;
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    buf[n] = '\0';
    fs::path installed = fs::path(buf).parent_path().parent_path() / "share/dbuild/rules";
    std::error_code ec;
    if (fs::is_directory(installed, ec)) return installed.string();
  }
#ifdef DBUILD_SOURCE_STDLIB
  return DBUILD_SOURCE_STDLIB;
#else
  return "rules";
#endif
}

namespace {

/// Lists the workspace's rule files, sorted, skipping hidden and nested workspaces.
std::vector<std::string> list_rule_files(const fs::path& root) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::string name = p.filename().string();
    if (it->is_directory(ec)) {
      if (name.starts_with(".") || fs::exists(p / kWorkspaceFile, ec)) it.disable_recursion_pending();
      continue;
    }
    if (p.extension() == ".dbuild" && !name.starts_with(".")) out.push_back(p.string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Whether `path` (absolute, normal) would be listed by list_rule_files(root) if it existed:
/// a `*.dbuild` below `root`, not under a hidden directory or a nested workspace.
bool belongs_to_workspace(const fs::path& root, const fs::path& path) {
  fs::path rel = path.lexically_relative(root);
  if (rel.empty() || *rel.begin() == ".." || path.extension() != ".dbuild") return false;
  fs::path dir = root;
  std::error_code ec;
  for (auto it = rel.begin(); it != rel.end(); ++it) {
    if (it->string().starts_with(".")) return false;
    if (std::next(it) == rel.end()) break;
    dir /= *it;
    if (fs::exists(dir / kWorkspaceFile, ec)) return false;
  }
  return true;
}

/// The rule files of the workspace, with the overridden paths that belong to it, sorted.
std::vector<std::string> rule_files_with_overrides(const fs::path& root, const WorkspaceLoadOptions& options) {
  std::vector<std::string> files = list_rule_files(root);
  std::error_code ec;
  fs::path canonical_root = fs::weakly_canonical(root, ec);
  // Compared resolved, so a path spelled through a symlink still belongs; a file listed
  // twice under two spellings is read once (load_workspace skips what it has seen).
  for (const auto& [path, text] : options.overrides)
    if (belongs_to_workspace(canonical_root, fs::weakly_canonical(path, ec)) &&
        std::find(files.begin(), files.end(), path) == files.end())
      files.push_back(path);
  std::sort(files.begin(), files.end());
  return files;
}

std::string resolve_import(const std::string& importer, const std::string& path) {
  if (path.starts_with("std/")) {
    std::string name = path.substr(4);
    if (!name.ends_with(".dbuild")) name += ".dbuild";
    return (fs::path(stdlib_dir()) / name).lexically_normal().string();
  }
  std::string p = path;
  if (!p.ends_with(".dbuild")) p += ".dbuild";
  return (fs::path(importer).parent_path() / p).lexically_normal().string();
}

}  // namespace

void load_workspace(const std::string& root, Workspace& ws, Diagnostics& diags,
                    const WorkspaceLoadOptions& options) {
  ws.root = root;
  std::set<std::string> seen;
  std::vector<std::pair<std::string, bool>> queue;  // path, imported
  for (auto& f : rule_files_with_overrides(root, options)) queue.push_back({f, false});
  // Overrides by resolved path, so the spelling of the workspace's path does not matter.
  std::map<std::string, const std::string*> overrides;
  for (const auto& [path, text] : options.overrides) {
    std::error_code ec;
    overrides[fs::weakly_canonical(path, ec).string()] = &text;
  }
  auto override_of = [&](const std::string& path) -> const std::string* {
    std::error_code ec;
    auto it = overrides.find(fs::weakly_canonical(path, ec).string());
    return it == overrides.end() ? nullptr : it->second;
  };
  for (size_t i = 0; i < queue.size(); ++i) {
    auto [path, imported] = queue[i];
    std::error_code ec;
    std::string canonical = fs::weakly_canonical(path, ec).string();
    if (!seen.insert(ec ? path : canonical).second) continue;
    const std::string* overridden = override_of(path);
    auto text = overridden ? Result<std::string>(*overridden) : read_file(path);
    if (!text.ok()) {
      diags.error(Span{}, text.status().message());
      continue;
    }
    FileId id = ws.files.add(display_path(path), std::move(*text));
    std::string abs = fs::absolute(path, ec).lexically_normal().string();
    ws.asts.push_back(options.parse ? options.parse(abs, ws.files, id, diags)
                                    : parse_rules(ws.files, id, diags));
    ws.imported.push_back(imported);
    for (const auto& decl : ws.asts.back().declarations) {
      if (decl.kind != ast::Declaration::Kind::Import) continue;
      std::string target = resolve_import(path, decl.import_path.value);
      if (!override_of(target) && !fs::exists(target, ec)) {
        std::string hint = decl.import_path.value.starts_with("std/")
                               ? fmt::format("the standard library is in {}", stdlib_dir())
                               : "import paths are relative to the importing file";
        diags.error(decl.import_path.span,
                    fmt::format("cannot import \"{}\": {} does not exist", decl.import_path.value,
                                display_path(target)),
                    hint);
        continue;
      }
      queue.push_back({target, true});
    }
  }
}

}  // namespace dbuild
