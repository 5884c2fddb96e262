#include "model/workspace.h"

#include <doctest/doctest.h>

#include "test_util.h"

namespace dbuild {
namespace {

/// The loaded files as "path=text" lines, paths relative to `root`.
std::string loaded(const std::string& root, const WorkspaceLoadOptions& options, Diagnostics& diags) {
  Workspace ws;
  load_workspace(root, ws, diags, options);
  std::string out;
  for (FileId id = 0; id < ws.files.size(); ++id) {
    std::string path = ws.files.path(id);
    if (path.starts_with(root + "/")) path.erase(0, root.size() + 1);
    out += path + "=" + std::string(ws.files.text(id)) + "\n";
  }
  return out;
}

TEST_CASE("workspace: an override replaces a file's text and adds a file not on disk") {
  testing::TempDir dir;
  dir.write("workspace.dbuild", "# root");
  dir.write("a.dbuild", "# on disk");
  WorkspaceLoadOptions options;
  options.overrides[dir / "a.dbuild"] = "# buffer";
  options.overrides[dir / "sub/new.dbuild"] = "# new";
  Diagnostics diags;
  CHECK(loaded(dir.path(), options, diags) == "a.dbuild=# buffer\nsub/new.dbuild=# new\nworkspace.dbuild=# root\n");
  CHECK(diags.size() == 0);
}

TEST_CASE("workspace: overrides outside the workspace's files are not loaded - imports read them") {
  testing::TempDir dir;
  dir.write("ws/workspace.dbuild", "import \"../shared/f.dbuild\"\n");
  dir.write("ws/nested/workspace.dbuild", "");
  WorkspaceLoadOptions options;
  options.overrides[dir / "ws/.hidden/x.dbuild"] = "# hidden";
  options.overrides[dir / "ws/nested/y.dbuild"] = "# nested workspace";
  options.overrides[dir / "ws/notes.txt"] = "# not a rule file";
  options.overrides[dir / "shared/f.dbuild"] = "# imported, not on disk";
  Diagnostics diags;
  std::string files = loaded(dir.sub("ws"), options, diags);
  CHECK(diags.size() == 0);
  CHECK(files.find("hidden") == std::string::npos);
  CHECK(files.find("nested workspace") == std::string::npos);
  CHECK(files.find("not a rule file") == std::string::npos);
  CHECK(files.find("=# imported, not on disk\n") != std::string::npos);
}

}  // namespace
}  // namespace dbuild
