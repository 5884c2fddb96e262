#include "cli/format_command.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "format/formatter.h"
#include "model/workspace.h"

namespace dbuild {
namespace fs = std::filesystem;
namespace {

/// The workspace's rule files, as the loader finds them, that lie inside its root.
Result<std::vector<std::string>> workspace_files(const std::string& dir) {
  auto root = find_workspace_root(dir);
  if (!root.ok()) return root.status();
  Workspace ws;
  Diagnostics ignored;  // syntax errors are reported per file by the formatter
  load_workspace(*root, ws, ignored);
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const ast::File& f : ws.asts) {
    fs::path p = fs::absolute(ws.files.path(f.file)).lexically_normal();
    fs::path rel = p.lexically_relative(*root);
    if (rel.empty() || *rel.begin() == ".." || p.extension() != ".dbuild") continue;
    if (seen.insert(p.string()).second) out.push_back(p.string());
  }
  return out;
}

/// Replaces `path` with `text`: a temporary file beside it, with its mode, synced, renamed
/// over it; so a crash leaves the old file or the new one, never half of one.
Status write_atomically(const std::string& path, const std::string& text) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Status::Error(fmt::format("cannot stat {}: {}", path, std::strerror(errno)));
  std::string tmp = path + ".dbuild-fmt-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return Status::Error(fmt::format("cannot create a file beside {}: {}", path, std::strerror(errno)));
  auto fail = [&](const char* what) {
    Status s = Status::Error(fmt::format("cannot {} {}: {}", what, tmp, std::strerror(errno)));
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  };
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write");
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, st.st_mode & 07777) != 0) return fail("set the mode of");
  if (::fsync(fd) != 0) return fail("sync");
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Status::Error(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Status::Error(fmt::format("cannot replace {}: {}", path, std::strerror(errno)));
    ::unlink(tmp.c_str());
    return s;
  }
  // The rename itself is durable once the directory is synced.
  std::string parent = fs::path(path).parent_path().string();
  int dfd = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

/// Formats one file; returns false when it was not formatted (and could not be, or `check`).
bool format_file(const std::string& path, bool check) {
  std::string shown = display_path(path);
  auto text = read_file(path);
  if (!text.ok()) {
    fmt::print(stderr, "dbuild: error: {}\n", text.status().message());
    return false;
  }
  auto formatted = format_rules(*text, shown);
  if (!formatted.ok()) {
    fmt::print(stderr, "{}\n", formatted.status().message());
    return false;
  }
  if (*formatted == *text) return true;
  if (check) {
    fmt::print("{}\n", shown);
    return false;
  }
  Status written = write_atomically(path, *formatted);
  if (!written.ok()) {
    fmt::print(stderr, "dbuild: error: {}\n", written.message());
    return false;
  }
  fmt::print("{}\n", shown);
  return true;
}

/// `dbuild fmt -`: stdin to stdout (with --check, only the exit status and `-` if unformatted).
int format_stdin(bool check) {
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  auto formatted = format_rules(text, "<stdin>");
  if (!formatted.ok()) {
    fmt::print(stderr, "{}\n", formatted.status().message());
    return 1;
  }
  if (check) {
    if (*formatted == text) return 0;
    fmt::print("-\n");
    return 1;
  }
  std::fwrite(formatted->data(), 1, formatted->size(), stdout);
  return 0;
}

}  // namespace

int cmd_fmt(const FormatOptions& o) {
  bool has_stdin = false;
  for (const auto& f : o.files) has_stdin = has_stdin || f == "-";
  if (has_stdin) {
    if (o.files.size() != 1) {
      fmt::print(stderr, "dbuild: error: `-` (stdin) cannot be combined with files\n");
      return 64;
    }
    return format_stdin(o.check);
  }
  std::vector<std::string> files;
  if (o.files.empty()) {
    auto found = workspace_files(o.dir);
    if (!found.ok()) {
      fmt::print(stderr, "dbuild: error: {}\n", found.status().message());
      return 1;
    }
    files = std::move(*found);
  } else {
    files = o.files;
  }
  bool all_ok = true;
  for (const auto& f : files) all_ok = format_file(f, o.check) && all_ok;
  return all_ok ? 0 : 1;
}

}  // namespace dbuild
