#pragma once
/// `dbuild watch`: builds again whenever new source files arrive or the rules change
/// (docs/operations.md, "Watching").
///
/// The watch listens with inotify on the workspace tree (every directory below the root except
/// hidden ones and nested workspaces, and directories created later), and reacts only to
/// complete files: a file counts once it was closed after writing (IN_CLOSE_WRITE) or moved into
/// place (IN_MOVED_TO); names starting with `.` or ending with `.tmp`, `.part` or `~` are
/// ignored until renamed. A file matters when it matches the path template of a file source, is
/// a rule file (`*.dbuild`) or a `sql file` of the rules. Events are coalesced until a quiet
/// period (--debounce) passes, so a burst of files gives one build.
///
/// Each build is the normal incremental build (run_build in graph_commands.h) with a fresh
/// session: the rules are read again, the build lock is held only while building. Failures,
/// rule errors and a lock held by another build are printed and the watch goes on. SIGINT or
/// SIGTERM between builds ends the watch with 0; during a build, the build stops cleanly and the
/// watch ends with 128 + the signal.
#include <string>

#include "cli/graph_commands.h"

namespace dbuild {

struct WatchOptions {
  int debounce_ms = 200;       // quiet period after the last event before building
  bool no_initial_build = false;  // else build once at start so the state is current
  BuildFlags build;            // -j, -k, --executor as for `build`
};

int cmd_watch(const CommonOptions& common, const SelectOptions& select, const WatchOptions& options,
              const std::string& command_line);

}  // namespace dbuild
