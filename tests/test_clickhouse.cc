#include "test_clickhouse.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <sstream>

#include <doctest/doctest.h>

#include "engine/clickhouse/http_client.h"
#include "test_util.h"

namespace dbuild::testing {

namespace {

/// The cluster this process uses: from the environment or started here.
struct Cluster {
  std::string shards;    // host:port,host:port
  std::string cluster;
  std::string password;
  std::string dir;       // non-empty when this process started it
  std::string error;     // why it could not start
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

Cluster* g_started = nullptr;

void stop_cluster() {
  if (g_started && !g_started->dir.empty()) {
    run_command(source_dir() + "/scripts/clickhouse stop " + g_started->dir);
  }
}

/// The value of `export NAME=value` in the script's output.
std::string exported(const std::string& output, const std::string& name) {
  std::istringstream in(output);
  std::string line, prefix = "export " + name + "=";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  }
  return "";
}

const Cluster& cluster() {
  static std::once_flag once;
  static Cluster c;
  std::call_once(once, [] {
    c.shards = env("DBUILD_TEST_CH_SHARDS");
    c.cluster = env("DBUILD_TEST_CH_CLUSTER");
    c.password = env("DBUILD_TEST_CH_PASSWORD");
    if (!c.shards.empty() && !c.cluster.empty()) return;
    std::string tmpl = (std::filesystem::temp_directory_path() / "dbuild-ch-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      c.error = "cannot make a temporary directory";
      return;
    }
    c.dir = tmpl;
    RunResult r = run_command(source_dir() + "/scripts/clickhouse start " + c.dir + "/cluster", false);
    c.shards = exported(r.output, "DBUILD_TEST_CH_SHARDS");
    c.cluster = exported(r.output, "DBUILD_TEST_CH_CLUSTER");
    c.password = exported(r.output, "DBUILD_TEST_CH_PASSWORD");
    c.dir += "/cluster";
    g_started = &c;
    std::atexit([] {
      stop_cluster();
      std::error_code ec;
      std::filesystem::remove_all(std::filesystem::path(g_started->dir).parent_path(), ec);
    });
    if (r.exit_code != 0 || c.shards.empty()) {
      c.error = "scripts/clickhouse start failed (exit " + std::to_string(r.exit_code) + "): " + r.output;
    }
  });
  return c;
}

const Cluster& usable_cluster() {
  const Cluster& c = cluster();
  if (!c.error.empty()) FAIL("the ClickHouse test cluster did not start: " << c.error);
  return c;
}

}  // namespace

exec::ConnectionSettings clickhouse_settings() {
  const Cluster& c = usable_cluster();
  exec::ConnectionSettings s;
  s.name = "test_ch";
  s.values = {{"shards", c.shards}, {"cluster", c.cluster}, {"database", "default"}};
  return s;
}

std::string clickhouse_password() { return usable_cluster().password; }

std::vector<std::string> clickhouse_shards() {
  std::vector<std::string> out;
  std::istringstream in(usable_cluster().shards);
  std::string part;
  while (std::getline(in, part, ',')) out.push_back(part);
  return out;
}

ClickhouseTestDb::ClickhouseTestDb() {
  static std::atomic<int> n{0};
  name_ = "t_" + std::to_string(::getpid()) + "_" + std::to_string(n++);
  for (size_t i = 0; i < clickhouse_shards().size(); ++i) {
    std::string r = on_shard(i, "CREATE DATABASE IF NOT EXISTS " + name_);
    REQUIRE_MESSAGE(r.empty(), r);
  }
}

ClickhouseTestDb::~ClickhouseTestDb() {
  for (size_t i = 0; i < clickhouse_shards().size(); ++i) on_shard(i, "DROP DATABASE IF EXISTS " + name_);
}

exec::ConnectionSettings ClickhouseTestDb::settings() const {
  exec::ConnectionSettings s = clickhouse_settings();
  s.values["database"] = name_;
  return s;
}

std::string ClickhouseTestDb::on_shard(size_t i, const std::string& sql) const {
  auto client = exec::HttpClient::create({clickhouse_shards().at(i), "", ""}, {});
  if (!client.ok()) return "ERROR: " + client.status().message();
  auto r = (*client)->query(sql);
  if (!r.ok()) return "ERROR: " + r.status().message();
  std::string body = *r;
  while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
  return body;
}

}  // namespace dbuild::testing
