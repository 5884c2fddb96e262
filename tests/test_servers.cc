#include "test_servers.h"

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <sstream>

#include "test_util.h"

namespace dbuild::testing {

namespace {

/// A server started by this process with scripts/pg; stopped (and its directory removed) when
/// the process exits normally.
class PrivatePostgres {
 public:
  ~PrivatePostgres() {
    if (!dir_.empty()) run_command(script() + " stop " + dir_ + " >/dev/null 2>&1");
  }

  /// Starts the server once; the settings or why it could not start.
  Result<exec::ConnectionSettings> settings() {
    std::call_once(once_, [this] { started_ = start(); });
    return started_;
  }

 private:
  static std::string script() { return source_dir() + "/scripts/pg"; }

  Result<exec::ConnectionSettings> start() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dbuild-pg-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return Status::Error("cannot create a directory for the PostgreSQL server");
    dir_ = tmpl;
    std::string err_path = dir_ + ".stderr";  // beside the directory, which the server's user owns
    RunResult r = run_command(script() + " start " + dir_ + " 2>" + err_path, /*merge_stderr=*/false);
    std::string err = slurp(err_path);
    std::remove(err_path.c_str());
    if (r.exit_code != 0) {
      return Status::Error("scripts/pg start " + dir_ + " failed (is postgresql installed? see scripts/dev): " +
                           err + r.output);
    }
    exec::ConnectionSettings s;
    s.name = "test_pg";
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      auto take = [&](const char* var, const char* key) {
        std::string prefix = std::string("export ") + var + "=";
        if (line.rfind(prefix, 0) == 0) s.values[key] = line.substr(prefix.size());
      };
      take("DBUILD_TEST_PG_HOST", "host");
      take("DBUILD_TEST_PG_PORT", "port");
      take("DBUILD_TEST_PG_USER", "user");
      take("DBUILD_TEST_PG_DATABASE", "database");
    }
    if (s.values.size() != 4) return Status::Error("scripts/pg start printed no settings: " + r.output);
    return s;
  }

  std::once_flag once_;
  std::string dir_;
  Result<exec::ConnectionSettings> started_ = Status::Error("not started");
};

PrivatePostgres g_private_postgres;  // destroyed at exit: stops the server

}  // namespace

Result<exec::ConnectionSettings> postgres_settings() {
  const char* host = std::getenv("DBUILD_TEST_PG_HOST");
  if (host && *host) {
    exec::ConnectionSettings s;
    s.name = "test_pg";
    s.values["host"] = host;
    auto env = [](const char* name, const char* fallback) {
      const char* v = std::getenv(name);
      return std::string(v && *v ? v : fallback);
    };
    s.values["port"] = env("DBUILD_TEST_PG_PORT", "5432");
    s.values["user"] = env("DBUILD_TEST_PG_USER", "postgres");
    s.values["database"] = env("DBUILD_TEST_PG_DATABASE", "postgres");
    return s;
  }
  return g_private_postgres.settings();
}

}  // namespace dbuild::testing
