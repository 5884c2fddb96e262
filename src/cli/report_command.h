#pragma once
/// `dbuild report` and `dbuild serve` (docs/report.md): the state of every partition, the last
/// runs and the failures as one self-contained HTML page, written to a file or served on
/// localhost.
///
/// The page's states come from the same read-only plan as `dbuild status`, so its counts table
/// equals `status --json`. `serve` answers one request at a time on plain POSIX sockets and
/// opens the workspace and the state read-only for each `/` request: it never takes the build
/// lock, so a build runs beside it, and the page polls `/version` (the latest run id) to reload
/// after each build.
#include <string>

#include "cli/session.h"

namespace dbuild {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (printed)
};

/// Writes the report page to `output`.
int cmd_report(const CommonOptions& common, const std::string& output);
/// Serves the page until SIGINT or SIGTERM.
int cmd_serve(const CommonOptions& common, const ServeOptions& options);

}  // namespace dbuild
