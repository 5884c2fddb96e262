#include "eval/command_runner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "base/interrupt.h"
#include "eval/action_specs.h"
#include "executor/process.h"
#include "loading/file_hash.h"
#include "graph/file_discovery.h"

extern char** environ;

namespace fs = std::filesystem;

namespace dbuild::exec {
namespace {

std::string value_text(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return "";
}

std::string tail(const std::string& log, size_t max) {
  return log.size() <= max ? log : "..." + log.substr(log.size() - max);
}

/// Why `value` cannot be one part of a path ("" when it can).
std::string unsafe_path_part(const std::string& value) {
  if (value.empty()) return "it is empty";
  if (value == "." || value == "..") return fmt::format("it is `{}`", value);
  for (unsigned char c : value) {
    if (c == '/') return "it contains `/`";
    if (c < 0x20 || c == 0x7f) return "it contains a control character";
  }
  return "";
}

bool uses_key(const std::string& tmpl, const std::string& key) {
  return tmpl.find("{" + key + "}") != std::string::npos;
}

}  // namespace

Result<std::string> command_output_path(const Dataset& ds, std::span<const int64_t> tuple,
                                        const StringPool& pool) {
  for (size_t k = 0; k < ds.keys.size(); ++k) {
    if (ds.keys[k].type != KeyType::String || !uses_key(ds.output_template, ds.keys[k].name)) continue;
    const std::string& value = pool.text(tuple[k]);
    if (std::string why = unsafe_path_part(value); !why.empty())
      return Status::Error(fmt::format(
          "`{}`: the value {:?} of key `{}` cannot be part of the output path ({}); dbuild writes "
          "and deletes only inside the workspace",
          ds.name, value, ds.keys[k].name, why));
  }
  std::string path = expand_path_template(ds.output_template, ds.keys, tuple, pool);
  fs::path norm = fs::path(path).lexically_normal();
  if (path.empty() || norm.is_absolute() || norm.empty() || *norm.begin() == ".." || norm == ".")
    return Status::Error(fmt::format(
        "`{}`: the output path `{}` is not inside the workspace; write it as a path relative to "
        "the workspace root, without `..`",
        ds.name, path));
  return norm.string();
}

Result<std::string> command_output_path(const ActionGraph& g, ActionId a) {
  return command_output_path(g.model->datasets[g.dataset_of(a)], g.tuple_of(a), g.pool);
}

void remove_leftover_temporaries(const ActionGraph& g, const std::vector<uint8_t>& selected) {
  for (const Dataset& ds : g.model->datasets) {
    if (ds.kind != Dataset::Kind::CommandTable) continue;
    for (ActionId a = g.first_action[ds.id]; a < g.first_action[ds.id + 1]; ++a) {
      if (a >= selected.size() || !selected[a]) continue;
      Result<std::string> path = command_output_path(g, a);
      if (!path.ok()) continue;
      std::string tmp = g.model->root + "/" + *path + ".dbuild-tmp";
      ::unlink(tmp.c_str());
      ::unlink((tmp + ".log").c_str());
    }
  }
}

Status check_command_outputs(const ActionGraph& g, const std::vector<uint8_t>& selected) {
  for (const Dataset& ds : g.model->datasets) {
    if (ds.kind != Dataset::Kind::CommandTable) continue;
    std::unordered_map<std::string, ActionId> owner;
    for (ActionId a = g.first_action[ds.id]; a < g.first_action[ds.id + 1]; ++a) {
      if (a >= selected.size() || !selected[a]) continue;
      Result<std::string> path = command_output_path(g, a);
      if (!path.ok()) return path.status();
      auto [it, fresh] = owner.emplace(*path, a);
      if (!fresh)
        return Status::Error(fmt::format(
            "`{}`: partitions {} and {} would both write {}; make the output template name "
            "every partition key so that each partition has its own file",
            ds.name, g.label(it->second), g.label(a), *path));
    }
  }
  return Status::Ok();
}

std::vector<std::string> command_environment(const Dataset& ds, char** parent_env,
                                             const std::vector<std::pair<std::string, std::string>>& dbuild_vars) {
  static const char* kDefault[] = {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG",
                                   "LANGUAGE", "TZ", "TMPDIR", "TERM"};
  auto granted = [&](std::string_view name) {
    if (name.starts_with("LC_")) return true;
    for (const char* d : kDefault)
      if (name == d) return true;
    for (const std::string& n : ds.command_env)
      if (name == n) return true;
    return false;
  };
  std::vector<std::string> env;
  for (char** e = parent_env; e && *e; ++e) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = entry.substr(0, eq);
    if (name.starts_with("DBUILD_") || !granted(name)) continue;
    env.emplace_back(entry);
  }
  for (const auto& [k, v] : dbuild_vars) env.push_back(k + "=" + v);
  return env;
}

Result<PreparedCommand> prepare_command(const ActionGraph& g, ActionId a, const std::string& warehouse) {
  const Model& m = *g.model;
  const Dataset& ds = m.datasets[g.dataset_of(a)];
  PreparedCommand p;
  Result<std::string> output = command_output_path(g, a);
  if (!output.ok()) return output.status();
  p.output_path = *output;
  p.final_path = m.root + "/" + p.output_path;
  std::string tmp_rel = p.output_path + ".dbuild-tmp";
  p.tmp_path = m.root + "/" + tmp_rel;
  std::error_code ec;
  fs::create_directories(fs::path(p.final_path).parent_path(), ec);
  fs::remove(p.tmp_path, ec);
  for (const auto& part : ds.parts) {
    if (!part.is_template) {
      p.job.script += part.text;
      continue;
    }
    if (part.expr.kind == ast::Expr::Kind::Identifier && part.expr.text == "output") {
      p.job.script += shell_quote(tmp_rel);
      continue;
    }
    auto v = template_value(part.expr, m, ds, g.tuple_of(a), g.pool);
    if (!v.ok()) return Status::Error(fmt::format("{{{{{}}}}}: {}", part.text, v.status().message()));
    p.job.script += shell_quote(value_text(*v));
  }
  p.job.tag = a;
  p.job.name = g.label(a);
  p.job.dir = m.root;
  p.job.log_path = p.tmp_path + ".log";
  p.job.resources = JobResources{ds.executor.partition, ds.executor.time, ds.executor.cpus, ds.executor.mem};
  p.job.env = command_environment(
      ds, environ,
      {{"DBUILD_ROOT", m.root}, {"DBUILD_WAREHOUSE", warehouse}, {"DBUILD_DATASET", ds.name},
       {"DBUILD_PARTITION", g.partition_text(a)}, {"DBUILD_OUTPUT", tmp_rel}});
  return p;
}

void discard_command(const PreparedCommand& p) {
  std::error_code ec;
  fs::remove(p.tmp_path, ec);
  fs::remove(p.job.log_path, ec);
}

Result<CommandResult> finish_command(const PreparedCommand& p, const JobResult& job) {
  CommandResult r;
  r.output_path = p.output_path;
  std::ifstream log_in(p.job.log_path, std::ios::binary);
  std::stringstream ss;
  ss << log_in.rdbuf();
  r.log = tail(ss.str(), 16 * 1024);
  std::error_code ec;
  fs::remove(p.job.log_path, ec);
  if (!job.ok()) {
    fs::remove(p.tmp_path, ec);
    std::string log_tail = r.log.empty() ? "" : ":\n" + tail(r.log, 2000);
    if (!job.error.empty()) return Status::Error(job.error + log_tail);
    if (interrupt_signal() != 0) return Status::Error("interrupted");
    return Status::Error(fmt::format("the command exited with status {}{}", job.exit_code, log_tail));
  }
  StatEntry written;
  if (!hash_file(p.tmp_path, written).ok())
    return Status::Error(fmt::format("the command exited 0 but did not write {{{{ output }}}} ({})", r.output_path));
  fs::rename(p.tmp_path, p.final_path, ec);
  if (ec) {
    fs::remove(p.tmp_path, ec);
    return Status::Error(fmt::format("cannot move the output into place: {}", ec.message()));
  }
  // The rename may change the file's ctime: take the identity of the file in place.
  struct stat st;
  if (::stat(p.final_path.c_str(), &st) == 0) {
    written.dev = st.st_dev;
    written.ino = st.st_ino;
    written.size = static_cast<uint64_t>(st.st_size);
    written.mtime_ns = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    written.ctime_ns = st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
  }
  r.output = written;
  return r;
}

}  // namespace dbuild::exec
