#pragma once
/// `dbuild fmt [--check] [FILES...|-]`: rewrites rule files in the canonical layout
/// (format/formatter.h, docs/language.md "Formatting").
///
/// Without FILES, every rule file of the workspace found from `dir`: the `*.dbuild` files the
/// workspace loader reads, including imported ones that lie inside the workspace (never the
/// standard library or files outside the root). `-` formats stdin to stdout.
///
/// A file is rewritten only when its text changes, atomically (a temporary file beside it,
/// fsync, rename) and with its mode kept; its path is printed. With `check`, nothing is
/// written and the files that are not formatted are printed. A file that does not parse is
/// reported with path:line:col and left as it is; the others are still formatted.
/// Exit status: 0 all formatted; 1 a file was not formatted (`check`), did not parse, or could
/// not be read or written; 64 bad usage.
#include <string>
#include <vector>

namespace dbuild {

struct FormatOptions {
  std::string dir = ".";           // -C: where the workspace is found when no FILES are given
  bool check = false;              // --check: only list the files that are not formatted
  std::vector<std::string> files;  // FILES, or {"-"} for stdin
};

int cmd_fmt(const FormatOptions& options);

}  // namespace dbuild
