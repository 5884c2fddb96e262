#pragma once
/// SqliteWarehouse: the embedded engine — one SQLite database file, the workspace's warehouse
/// (or a `connection NAME { engine = "sqlite" path = ... }`). Sessions are SqliteEngine
/// connections to that file (see sqlite_engine.h for durability and concurrency).
#include <memory>
#include <mutex>
#include <string>

#include "engine/engine.h"

namespace dbuild::exec {

/// The embedded warehouse as an Engine. Thread-safe.
class SqliteWarehouse : public Engine {
 public:
  /// `path`: the database file (created on first write). REQUIRES: an absolute path or one
  /// relative to the working directory.
  explicit SqliteWarehouse(std::string path) : path_(std::move(path)) {}

  std::string kind() const override { return "sqlite"; }
  std::string describe() const override { return path_; }
  /// Writers take turns on SQLite's write lock, waiting for each other; queries of different
  /// partitions still read in parallel (WAL), so no cap beyond the build's jobs.
  int max_writers() const override { return 0; }
  bool may_have_data() const override;
  Result<std::unique_ptr<EngineSession>> open() override;
  /// A private in-memory database.
  Result<std::unique_ptr<EngineSession>> open_scratch() override;
  std::string placeholder(size_t index, const Value& v) const override;
  std::string damage_hint(const std::string& message) const override;

  /// A file SQLite does not take for a database, or whose first pages are damaged: an error
  /// naming it; Ok for anything else, a missing file included (opening reports the rest).
  Status probe() const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex prime_mu_;
  bool primed_ = false;  // the file exists and is in WAL mode: sessions may open side by side
};

}  // namespace dbuild::exec
