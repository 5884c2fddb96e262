#include "cli/watch_command.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/interrupt.h"
#include "cli/engine_factory.h"
#include "cli/front_end.h"
#include "cli/json_output.h"
#include "graph/selector.h"

namespace fs = std::filesystem;

namespace dbuild {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

/// Names a writer uses while a file is incomplete: they count only once renamed.
bool ignored_name(std::string_view name) {
  return name.empty() || name.front() == '.' || name.back() == '~' || name.ends_with(".tmp") ||
         name.ends_with(".part");
}

/// The inotify watches on a directory tree. Directories created (or moved in) later are
/// watched as their events are read; files already inside them are reported as arrived, since
/// they may have been written before the watch began.
class DirWatcher {
 public:
  struct Event {
    std::string path;  // absolute; empty for an overflow
    uint32_t mask = 0;
  };

  DirWatcher() : fd_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {}
  ~DirWatcher() {
    if (fd_ >= 0) ::close(fd_);
  }
  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;

  int fd() const { return fd_; }
  size_t size() const { return dirs_.size(); }

  /// Watches `dir` and every directory below it, except hidden ones and nested workspaces
  /// (they are not part of this workspace). Regular files found go to `files` when given.
  void add_tree(const std::string& dir, std::vector<std::string>* files) {
    int wd = inotify_add_watch(fd_, dir.c_str(),
                               IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ONLYDIR);
    if (wd < 0) {
      warn_once(dir);
      return;
    }
    // The same directory reached twice (a symbolic link back up the tree) is not walked again.
    if (!dirs_.emplace(wd, dir).second) return;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (it->is_directory(ec)) {
        if (name.front() != '.' && !fs::exists(it->path() / kWorkspaceFile, ec)) add_tree(it->path().string(), files);
      } else if (files && it->is_regular_file(ec)) {
        files->push_back(it->path().string());
      }
    }
  }

  /// The events queued so far (does not wait).
  std::vector<Event> read() {
    std::vector<Event> out;
    alignas(inotify_event) char buf[64 * 1024];
    for (;;) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;  // EAGAIN: nothing more queued
      for (char* p = buf; p < buf + n;) {
        auto* e = reinterpret_cast<inotify_event*>(p);
        p += sizeof(inotify_event) + e->len;
        take(*e, out);
      }
    }
    return out;
  }

 private:
  void take(const inotify_event& e, std::vector<Event>& out) {
    if (e.mask & IN_Q_OVERFLOW) {
      out.push_back({"", IN_Q_OVERFLOW});
      return;
    }
    if (e.mask & IN_IGNORED) {
      dirs_.erase(e.wd);  // the directory is gone
      return;
    }
    auto dir = dirs_.find(e.wd);
    if (dir == dirs_.end() || e.len == 0) return;
    std::string name = e.name;
    std::string path = dir->second + "/" + name;
    if (e.mask & IN_ISDIR) {
      if ((e.mask & (IN_CREATE | IN_MOVED_TO)) && name.front() != '.') {
        std::vector<std::string> files;
        add_tree(path, &files);
        for (auto& f : files) out.push_back({std::move(f), IN_MOVED_TO});
      }
      return;
    }
    if (e.mask & IN_CREATE) return;  // not complete until closed
    out.push_back({std::move(path), e.mask});
  }

  void warn_once(const std::string& dir) {
    if (warned_) return;
    warned_ = true;
    fmt::print(stderr, "dbuild: warning: cannot watch {}: {}{}\n", dir, std::strerror(errno),
               errno == ENOSPC ? "\n  hint: raise the limit: sysctl fs.inotify.max_user_watches=524288" : "");
  }

  int fd_;
  bool warned_ = false;
  std::unordered_map<int, std::string> dirs_;  // watch descriptor -> absolute directory
};

/// What the watch reacts to, from the last load of the rules.
struct Watched {
  std::string root;
  std::vector<std::string> source_globs;  // absolute: each file source's path, {key} as *
  std::set<std::string> sql_files;        // absolute
};

enum class Change { kNone, kSource, kRules };

Change classify(const Watched& w, const std::string& path) {
  std::string name = fs::path(path).filename().string();
  if (ignored_name(name)) return Change::kNone;
  if (name.ends_with(".dbuild") || w.sql_files.count(path)) return Change::kRules;
  for (const auto& g : w.source_globs)
    if (glob_match(g, path)) return Change::kSource;
  return Change::kNone;
}

std::string to_glob(const std::string& tmpl) {
  std::string out;
  bool in_key = false;
  for (char c : tmpl) {
    if (c == '{') in_key = true, out += '*';
    else if (c == '}') in_key = false;
    else if (!in_key) out += c;
  }
  return out;
}

/// Reads the rules again for what to watch. With rule errors the file sources of the last good
/// load are kept. False (with the error printed) when there is no workspace.
bool refresh(const CommonOptions& common, Watched& w) {
  bool ok = true;
  auto vars = parse_vars(common.vars, ok);
  FrontEndOptions options;
  options.print_diagnostics = false;  // the build prints them
  FrontEnd fe = load_front_end(common.dir, vars, options);
  if (!fe.workspace) {
    json_front_end_error(fe);  // --json: the error object every command prints
    return false;
  }
  w.root = fe.workspace->root;
  w.sql_files.clear();
  for (FileId id = 0; id < fe.workspace->files.size(); ++id) {
    std::string p = fs::absolute(fe.workspace->files.path(id)).lexically_normal().string();
    if (!p.ends_with(".dbuild")) w.sql_files.insert(p);
  }
  if (!fe.ok) return true;
  w.source_globs.clear();
  for (const auto& ds : fe.model.datasets)
    if (ds.kind == Dataset::Kind::FileSource) w.source_globs.push_back(w.root + "/" + to_glob(ds.path_template));
  return true;
}

/// What happened since the last build.
struct Trigger {
  std::set<std::string> arrived, gone, rules;
  bool initial = false, overflow = false;

  bool empty() const { return arrived.empty() && gone.empty() && rules.empty() && !initial && !overflow; }

  std::string words() const {
    std::vector<std::string> parts;
    if (initial) parts.push_back("initial build");
    if (!arrived.empty()) parts.push_back(fmt::format("{} new file{}", arrived.size(), arrived.size() == 1 ? "" : "s"));
    if (!gone.empty()) parts.push_back(fmt::format("{} file{} gone", gone.size(), gone.size() == 1 ? "" : "s"));
    if (!rules.empty())
      parts.push_back(fmt::format("{} rule file{} changed", rules.size(), rules.size() == 1 ? "" : "s"));
    if (overflow) parts.push_back("events lost");
    return fmt::format("{}", fmt::join(parts, ", "));
  }

  /// Files that came, went, or rules that changed.
  void add(const DirWatcher::Event& e, Change c) {
    if (c == Change::kRules) rules.insert(e.path);
    else if (e.mask & (IN_DELETE | IN_MOVED_FROM)) gone.insert(e.path), arrived.erase(e.path);
    else arrived.insert(e.path), gone.erase(e.path);
  }
};

/// The time now: local for people, UTC for machines.
std::string clock_time(const char* format, bool utc) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  if (utc) gmtime_r(&now, &tm);
  else localtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

/// One line on stdout for a build (flushed: a pipe reader sees it at once).
void report(const CommonOptions& common, const Trigger& t, const BuildRun& run) {
  if (common.json) {
    json out = run.json.is_object() ? run.json : json::object();
    out["time"] = clock_time("%FT%TZ", true);
    out["trigger"] = t.words();
    out["new_files"] = t.arrived.size();
    out["gone_files"] = t.gone.size();
    out["rule_files"] = t.rules.size();
    out["result"] = run.summary ? "built" : run.rules_failed ? "rules_error" : run.locked ? "locked" : "error";
    fmt::print("{}\n", out.dump(-1, ' ', false, json::error_handler_t::replace));
  } else if (run.summary) {
    fmt::print("{} {}: {}\n", clock_time("%T", false), t.words(), build_summary_words(*run.summary));
  } else {
    const char* what = run.rules_failed ? "the rules have errors (above); waiting for a fix"
                       : run.locked     ? "another build holds the lock; retrying in a second or at the next change"
                                        : "the build could not start (above); waiting for the next change";
    fmt::print("{} {}: {}\n", clock_time("%T", false), t.words(), what);
  }
  std::fflush(stdout);
}

/// Reads the queued events into `pending`; true if any mattered.
bool take_events(DirWatcher& watcher, const Watched& w, Trigger& pending) {
  bool any = false;
  for (const auto& e : watcher.read()) {
    if (e.mask & IN_Q_OVERFLOW) {
      pending.overflow = any = true;
      continue;
    }
    Change c = classify(w, e.path);
    if (c == Change::kNone) continue;
    pending.add(e, c);
    any = true;
  }
  return any;
}

}  // namespace

int cmd_watch(const CommonOptions& common, const SelectOptions& select, const WatchOptions& options,
              const std::string& command_line) {
  install_interrupt_handlers();  // between builds a signal ends the watch; during one, the build
  Watched watched;
  if (!refresh(common, watched)) return 1;  // no workspace: load_front_end printed why
  DirWatcher watcher;
  if (watcher.fd() < 0) {
    fmt::print(stderr, "dbuild: error: cannot watch files: inotify: {}\n", std::strerror(errno));
    return 1;
  }
  watcher.add_tree(watched.root, nullptr);
  fmt::print(stderr, "dbuild: watching {} director{} under {} (Ctrl-C stops)\n", watcher.size(),
             watcher.size() == 1 ? "y" : "ies", display_path(watched.root));

  // The watch prints its own object per build; the once-per-process error object of a
  // failing command would leave a stray line after the first failure.
  enable_json_errors(false);
  BuildRunOptions run_options;
  run_options.progress = false;  // one line per build
  Trigger pending;
  pending.initial = !options.no_initial_build;
  std::optional<Clock::time_point> last_event = !options.no_initial_build ? std::optional(Clock::now() - std::chrono::hours(1))
                                                                      : std::nullopt;
  std::optional<Clock::time_point> retry_at;
  const auto quiet = std::chrono::milliseconds(std::max(0, options.debounce_ms));
  for (;;) {
    if (interrupt_signal()) {
      fmt::print(stderr, "dbuild: watch stopped\n");
      return 0;
    }
    auto now = Clock::now();
    bool due = !pending.empty() && ((last_event && now - *last_event >= quiet) || (retry_at && now >= *retry_at));
    if (due) {
      if (!pending.rules.empty() || pending.overflow) {
        refresh(common, watched);
        watcher.add_tree(watched.root, nullptr);  // a lost event may have been a new directory
      }
      BuildRun run = run_build(common, select, options.build, command_line, run_options);
      report(common, pending, run);
      if (int sig = interrupt_signal()) return run.summary && run.summary->interrupted_by ? run.code : 128 + sig;
      last_event.reset();
      retry_at.reset();
      if (run.locked) retry_at = Clock::now() + std::chrono::seconds(1);
      else pending = Trigger{};
      continue;
    }
    // Wake for the next event, the end of the quiet period, or a signal (poll returns EINTR;
    // the bound covers a signal that lands just before poll starts).
    int timeout = 200;
    if (last_event) timeout = static_cast<int>(std::clamp<int64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(*last_event + quiet - now).count(), 0, timeout));
    pollfd p{watcher.fd(), POLLIN, 0};
    if (::poll(&p, 1, timeout) > 0 && take_events(watcher, watched, pending)) last_event = Clock::now();
  }
}

}  // namespace dbuild
