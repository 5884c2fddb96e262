#include "engine/clickhouse/clickhouse_engine.h"

#include <fmt/format.h>

#include "engine/clickhouse/clickhouse_session.h"
#include "engine/clickhouse/clickhouse_text.h"

namespace dbuild::exec {

namespace {

std::vector<std::string> split_shards(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t b = part.find_first_not_of(' '), e = part.find_last_not_of(' ');
    if (b != std::string::npos) out.push_back(part.substr(b, e - b + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string setting(const ConnectionSettings& s, const std::string& key, const std::string& def = "") {
  auto it = s.values.find(key);
  return it == s.values.end() ? def : it->second;
}

/// The ClickHouse cluster engine (clickhouse_engine.h).
class ClickhouseEngine : public Engine {
 public:
  explicit ClickhouseEngine(ClickhouseConfig config) : config_(std::move(config)) {}

  std::string kind() const override { return "clickhouse"; }
  std::string describe() const override {
    return fmt::format("clickhouse cluster {} ({} shards)", config_.cluster, config_.shards.size());
  }
  int max_writers() const override { return 2; }
  /// A partition is swapped in shard by shard (see the header).
  bool atomic_writes() const override { return false; }
  Result<std::unique_ptr<EngineSession>> open() override { return open_session(false); }
  Result<std::unique_ptr<EngineSession>> open_scratch() override { return open_session(true); }
  /// ClickHouse 18.16 cannot bind parameters: a quoted, escaped literal.
  std::string placeholder(size_t, const Value& v) const override { return ch_literal(v); }

 private:
  Result<std::unique_ptr<EngineSession>> open_session(bool scratch) {
    Result<std::unique_ptr<ClickhouseSession>> s = ClickhouseSession::open(config_, scratch);
    if (!s.ok()) return s.status();
    return std::unique_ptr<EngineSession>(std::move(*s));
  }

  ClickhouseConfig config_;
};

}  // namespace

Result<std::unique_ptr<Engine>> open_clickhouse(const ConnectionSettings& s) {
  ClickhouseConfig c;
  std::string where = s.name.empty() ? "clickhouse connection" : fmt::format("connection `{}`", s.name);
  c.shards = split_shards(setting(s, "shards"));
  if (c.shards.empty()) return Status::Error(where + ": `shards` lists no host:port");
  c.cluster = setting(s, "cluster");
  if (c.cluster.empty()) return Status::Error(where + ": `cluster` is missing");
  c.database = setting(s, "database", "default");
  c.user = setting(s, "user");
  c.password = setting(s, "password");
  for (const std::string& key : s.secrets) {
    auto it = s.values.find(key);
    if (it != s.values.end() && !it->second.empty()) c.secrets.push_back(it->second);
  }
  if (c.user.find_first_of("\r\n") != std::string::npos ||
      c.password.find_first_of("\r\n") != std::string::npos) {
    return Status::Error(where + ": `user` or `password` contains a line break");  // HTTP headers
  }
  for (const std::string& shard : c.shards) {
    if (shard.find(':') == std::string::npos) {
      return Status::Error(fmt::format("{}: shard `{}` is not host:port", where, shard));
    }
  }
  return std::unique_ptr<Engine>(new ClickhouseEngine(std::move(c)));
}

}  // namespace dbuild::exec
