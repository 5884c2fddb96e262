#pragma once
/// `dbuild check`: parse and validate the workspace, prepare every query on its engine, and
/// report the diagnostics as text (stderr) or as one JSON object (stdout, docs/json.md).
///
/// The whole workspace is always checked (names resolve across files), but with FILES, or
/// with --stdin-path, only the diagnostics located in those files are reported, counted and
/// decide the exit status; diagnostics without a location are always reported.
#include <string>
#include <vector>

#include "cli/session.h"

namespace dbuild {

struct CheckOptions {
  std::string format = "text";      // "text" or "json" (--json is --format json)
  std::vector<std::string> files;   // report only these (paths as given, from the current directory)
  std::string stdin_path;           // "": none; else standard input is this file's text
};

int cmd_check(const CommonOptions& common, const CheckOptions& options);

}  // namespace dbuild
