#pragma once
/// Helpers shared by tests: temporary directories and files, running the real binary.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace dbuild::testing {

/// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dbuild-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }
  std::string sub(std::string_view rel) const { return path_ + "/" + std::string(rel); }

  /// Writes `text` to `rel` under the directory, creating parent directories.
  /// Writes `text` to `rel` under the directory, creating parent directories; returns the path.
  std::string write(const std::string& rel, const std::string& text) const {
    std::filesystem::path p = std::filesystem::path(path_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

 private:
  std::string path_;
};

/// Output and exit code of a shell command.
struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved
};

/// Runs `command` with /bin/sh, capturing stdout, and stderr too unless the command
/// redirects it itself (`merge_stderr` false).
RunResult run_command(const std::string& command, bool merge_stderr = true);

/// The path of the dbuild binary built beside the tests.
inline std::string dbuild_binary() { return DBUILD_BINARY; }
inline std::string source_dir() { return DBUILD_SOURCE_DIR; }

/// Copies the rules, queries and data of examples/nasa (no warehouse, no state) into `to`.
void copy_nasa_example(const std::string& to);

/// Reads a whole file ("" when missing).
std::string slurp(const std::string& path);

/// The real binary run in one directory, keeping the exit code and stderr of the last run.
struct DbuildIn {
  std::string dir;
  int code = -1;    // exit code of the last run
  std::string err;  // its stderr

  /// stdout of `dbuild ARGS` run in `dir`; `env` (NAME=VALUE ...) is set for that run only.
  std::string run(const std::string& args, const std::string& env = "");
};

/// `dataset@partition` of every action of a `build --json` output with this result.
std::set<std::string> with_result(const nlohmann::json& build, const std::string& result);

}  // namespace dbuild::testing
