#include "cli/engine_factory.h"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "engine/clickhouse/clickhouse_engine.h"
#include "engine/postgres/postgres_engine.h"
#include "engine/sqlite/sqlite_warehouse.h"

namespace fs = std::filesystem;

namespace dbuild {
namespace {

/// `path` as written in the rules: relative to the workspace root unless absolute.
std::string in_workspace(const Model& m, const std::string& path) {
  return fs::path(path).is_absolute() ? path : m.root + "/" + path;
}

/// The connection's settings with secrets read from the environment.
Result<exec::ConnectionSettings> resolve(const ConnectionDef& c) {
  exec::ConnectionSettings s;
  s.name = c.name;
  for (const auto& [k, v] : c.settings)
    if (k != "engine") s.values[k] = v;
  for (const auto& [k, var] : c.env) {
    const char* value = std::getenv(var.c_str());
    if (!value)
      return Status::Error(fmt::format("connection `{}` takes its {} from the environment variable {}, which is not "
                                       "set; export it before running dbuild", c.name, k, var));
    s.values[k] = value;
    s.secrets.insert(k);
  }
  return s;
}

Result<std::unique_ptr<exec::Engine>> open_connection(const Model& m, const ConnectionDef& c) {
  auto settings = resolve(c);
  if (!settings.ok()) return settings.status();
  if (c.engine == "sqlite") {
    auto path = settings->values.find("path");
    if (path == settings->values.end())
      return Status::Error(fmt::format("connection `{}` (sqlite) has no path", c.name));
    return std::unique_ptr<exec::Engine>(std::make_unique<exec::SqliteWarehouse>(in_workspace(m, path->second)));
  }
  if (c.engine == "postgres") return exec::open_postgres(*settings);
  if (c.engine == "clickhouse") return exec::open_clickhouse(*settings);
  return Status::Error(fmt::format("connection `{}`: this build of dbuild has no {} engine", c.name, c.engine));
}

}  // namespace

std::string warehouse_path(const Model& m) { return in_workspace(m, m.warehouse); }

std::unique_ptr<exec::Engines> open_engines(const Model& m, const std::string& warehouse) {
  auto engines = std::make_unique<exec::Engines>();
  engines->set_default(std::make_unique<exec::SqliteWarehouse>(warehouse));
  for (size_t i = 0; i < m.connections.size(); ++i)
    engines->set(static_cast<ConnectionId>(i), open_connection(m, m.connections[i]));
  return engines;
}

}  // namespace dbuild
