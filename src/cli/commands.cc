#include "cli/commands.h"

#include <map>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/front_end.h"

namespace dbuild {
namespace {

/// Options every command shares.
struct CommonOptions {
  std::string dir = ".";
  std::vector<std::string> vars;  // NAME=VALUE
};

void add_common(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("-C,--directory", o.dir, "Run in this directory (the workspace is found from it)");
  cmd->add_option("--var", o.vars, "Set a variable: --var NAME=VALUE (repeatable)");
}

std::map<std::string, std::string> parse_vars(const std::vector<std::string>& vars, bool& ok) {
  std::map<std::string, std::string> out;
  for (const auto& v : vars) {
    size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0) {
      fmt::print(stderr, "dbuild: error: --var {}: expected NAME=VALUE\n", v);
      ok = false;
      continue;
    }
    out[v.substr(0, eq)] = v.substr(eq + 1);
  }
  return out;
}

int cmd_check(const CommonOptions& o) {
  bool ok = true;
  auto vars = parse_vars(o.vars, ok);
  if (!ok) return 64;
  FrontEnd fe = load_front_end(o.dir, vars);
  if (fe.errors)
    fmt::print(stderr, "{} error{} found\n", fe.errors, fe.errors == 1 ? "" : "s");
  return fe.ok ? 0 : 1;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"dbuild: make for data. Builds the partitions of datasets that are out of date."};
  app.set_version_flag("--version", "dbuild 0.1.0");
  app.require_subcommand(1);
  CommonOptions common;

  CLI::App* check = app.add_subcommand("check", "Parse and validate every rule file of the workspace");
  add_common(check, common);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 64;
  }
  if (check->parsed()) return cmd_check(common);
  return 64;
}

}  // namespace dbuild
