#include "exec/command_runner.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "exec/action_specs.h"
#include "graph/file_discovery.h"

namespace fs = std::filesystem;

namespace dbuild::exec {
namespace {

std::string value_text(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return "";
}

Result<Hash128> hash_file_content(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(fmt::format("the command did not write {}", path));
  Hasher h;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) h.add_raw(buf, static_cast<size_t>(in.gcount()));
  return h.finish();
}

std::string tail(const std::string& log, size_t max) {
  return log.size() <= max ? log : "..." + log.substr(log.size() - max);
}

/// Runs `script` with /bin/sh in `dir`; stdout and stderr go to `log_path`. Returns the exit
/// status (-1: could not start).
int run_shell(const std::string& script, const std::string& dir, const std::string& log_path,
              const std::vector<std::pair<std::string, std::string>>& env) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || chdir(dir.c_str()) != 0) _exit(127);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, STDIN_FILENO);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string command_output_path(const ActionGraph& g, ActionId a) {
  const Dataset& ds = g.model->datasets[g.dataset_of(a)];
  return expand_path_template(ds.output_template, ds.keys, g.tuple_of(a), g.pool);
}

Result<CommandResult> run_command_action(const ActionGraph& g, ActionId a, const std::string& warehouse) {
  const Model& m = *g.model;
  const Dataset& ds = m.datasets[g.dataset_of(a)];
  CommandResult r;
  r.output = command_output_path(g, a);
  std::string final_path = m.root + "/" + r.output;
  std::string tmp_rel = r.output + ".dbuild-tmp";
  std::string tmp_path = m.root + "/" + tmp_rel;
  std::error_code ec;
  fs::create_directories(fs::path(final_path).parent_path(), ec);
  fs::remove(tmp_path, ec);
  std::string script;
  for (const auto& part : ds.parts) {
    if (!part.is_template) {
      script += part.text;
      continue;
    }
    if (part.expr.kind == ast::Expr::Kind::Identifier && part.expr.text == "output") {
      script += shell_quote(tmp_rel);
      continue;
    }
    auto v = template_value(part.expr, m, ds, g.tuple_of(a), g.pool);
    if (!v.ok()) return Status::Error(fmt::format("{{{{{}}}}}: {}", part.text, v.status().message()));
    script += shell_quote(value_text(*v));
  }
  std::string log_path = tmp_path + ".log";
  int code = run_shell(script, m.root, log_path,
                       {{"DBUILD_ROOT", m.root}, {"DBUILD_WAREHOUSE", warehouse}, {"DBUILD_DATASET", ds.name},
                        {"DBUILD_PARTITION", g.partition_text(a)}, {"DBUILD_OUTPUT", tmp_rel}});
  std::ifstream log_in(log_path, std::ios::binary);
  std::stringstream ss;
  ss << log_in.rdbuf();
  r.log = tail(ss.str(), 16 * 1024);
  fs::remove(log_path, ec);
  if (code != 0) {
    fs::remove(tmp_path, ec);
    return Status::Error(fmt::format("the command exited with status {}{}", code,
                                     r.log.empty() ? "" : ":\n" + tail(r.log, 2000)));
  }
  auto hash = hash_file_content(tmp_path);
  if (!hash.ok()) return Status::Error(fmt::format("the command exited 0 but did not write {{{{ output }}}} ({})", r.output));
  fs::rename(tmp_path, final_path, ec);
  if (ec) return Status::Error(fmt::format("cannot move the output into place: {}", ec.message()));
  r.output_hash = *hash;
  return r;
}

}  // namespace dbuild::exec
