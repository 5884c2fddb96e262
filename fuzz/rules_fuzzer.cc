// Fuzzes the rules front end the way `dbuild check` runs it: rule file text -> syntax tree ->
// checked model -> the engine pass that prepares every query on an in-memory database, with
// every diagnostic rendered. The input is the workspace's only rule file; it lives in memory
// (imports of the standard library are read from it, other imports find nothing).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "base/diagnostic.h"
#include "checking/query_check.h"
#include "engine/sqlite/sqlite_warehouse.h"
#include "model/model_builder.h"
#include "model/workspace.h"
#include "syntax/rules_parser.h"

namespace {

/// `sql file` and `rows file` paths are read as given: a path into /dev, /proc or /sys (say
/// /dev/zero or /dev/stdin) would hang the run instead of testing the front end.
bool names_special_files(std::string_view text) {
  for (std::string_view dir : {"dev/", "proc/", "sys/"})
    if (text.find(dir) != std::string_view::npos) return true;
  return false;
}

/// An empty directory standing for the workspace root: `sql file` paths and file sources
/// find nothing in it. Removed at exit.
const std::string& empty_root() {
  static std::string* root = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dbuild-fuzz-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    auto* path = new std::string(tmpl);
    std::atexit([] { rmdir(empty_root().c_str()); });
    return path;
  }();
  return *root;
}

/// The standard library's rule files by import path ("std/access_log"), read once.
const std::map<std::string, std::string>& stdlib() {
  static auto* files = [] {
    auto* out = new std::map<std::string, std::string>;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dbuild::stdlib_dir(), ec)) {
      if (entry.path().extension() != ".dbuild") continue;
      auto text = dbuild::read_file(entry.path().string());
      if (text.ok()) (*out)["std/" + entry.path().stem().string()] = std::move(*text);
    }
    return out;
  }();
  return *files;
}

/// Parses `text` as the workspace file, then the standard library files it imports.
void load(std::string text, dbuild::Workspace& ws, dbuild::Diagnostics& diags) {
  ws.root = empty_root();
  dbuild::FileId id = ws.files.add(ws.root + "/workspace.dbuild", std::move(text));
  ws.asts.push_back(dbuild::parse_rules(ws.files, id, diags));
  ws.imported.push_back(false);
  std::map<std::string, bool> seen;
  for (const auto& decl : ws.asts.front().declarations) {
    if (decl.kind != dbuild::ast::Declaration::Kind::Import) continue;
    auto it = stdlib().find(decl.import_path.value);
    if (it == stdlib().end() || seen[it->first]) continue;
    seen[it->first] = true;
    dbuild::FileId lib = ws.files.add(it->first + ".dbuild", it->second);
    ws.asts.push_back(dbuild::parse_rules(ws.files, lib, diags));
    ws.imported.push_back(true);
  }
}

/// File sources whose paths leave the workspace would make the engine pass list the
/// machine's directories: slow and not reproducible, so such models skip that pass.
bool reads_outside_root(const dbuild::Model& model) {
  for (const auto& ds : model.datasets)
    if (ds.path_template.starts_with("/") || ds.path_template.find("..") != std::string::npos) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (names_special_files(text)) return -1;  // -1: not added to the corpus
  dbuild::Workspace ws;
  dbuild::Diagnostics diags;
  load(std::move(text), ws, diags);
  dbuild::Model model = dbuild::build_model(ws, dbuild::ModelOptions{{{"fuzz_var", "1"}}}, diags);
  bool errors = false;
  for (const auto& d : diags.items()) errors |= d.severity == dbuild::Severity::Error;
  if (!errors && !reads_outside_root(model)) {
    // The embedded warehouse only: a connection the input declares is never dialled (its
    // queries are reported as not prepared).
    dbuild::exec::Engines engines;
    engines.set_default(std::make_unique<dbuild::exec::SqliteWarehouse>(empty_root() + "/warehouse.db"));
    dbuild::exec::check_queries(model, engines, diags);
  }
  diags.sort();
  (void)dbuild::render(diags, ws.files);
  return 0;
}
