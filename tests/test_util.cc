#include "test_util.h"

#include <sstream>
#include <stdio.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

namespace dbuild::testing {

RunResult run_command(const std::string& command, bool merge_stderr) {
  RunResult r;
  std::string full = merge_stderr ? command + " 2>&1" : command;
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string DbuildIn::run(const std::string& args, const std::string& env) {
  std::string err_path = dir + ".stderr";  // beside the directory: it may be read-only
  RunResult r = run_command("cd " + dir + " && " + env + " " + dbuild_binary() + " " + args + " 2>" + err_path, false);
  err = slurp(err_path);
  std::remove(err_path.c_str());
  code = r.exit_code;
  return r.output;
}

void copy_nasa_example(const std::string& to) {
  std::string from = source_dir() + "/examples/nasa";
  for (const char* part : {"workspace.dbuild", "sources.dbuild", "pipeline.dbuild", "queries", "data"})
    std::filesystem::copy(from + "/" + part, to + "/" + part, std::filesystem::copy_options::recursive);
}

std::set<std::string> with_result(const nlohmann::json& build, const std::string& result) {
  std::set<std::string> out;
  if (!build.contains("actions")) return out;
  for (const auto& a : build["actions"]) {
    if (a["result"] != result) continue;
    std::string p = a["partition"];
    out.insert(a["dataset"].get<std::string>() + (p.empty() ? "" : "@" + p));
  }
  return out;
}

}  // namespace dbuild::testing
