#pragma once
/// Engines: which engine each dataset of a pipeline uses. The caller (the command line) opens
/// one Engine per connection the rules declare, plus the workspace's warehouse; the evaluator,
/// `verify`, `check` and `test` reach data only through it, and know no engine by name.
///
/// EngineSessions: one thread's open sessions, one per engine, opened on first use.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "model/model.h"

namespace dbuild::exec {

/// The engines of one model. Thread-safe once filled (Engine::open is).
class Engines {
 public:
  /// The engine of datasets that name no connection.
  void set_default(std::unique_ptr<Engine> engine) { default_ = std::move(engine); }
  /// The engine of connection `c`, or why it cannot be used (a secret's variable is unset...).
  void set(ConnectionId c, Result<std::unique_ptr<Engine>> engine);

  /// The engine `ds` reads and writes, or why it has none.
  Result<Engine*> of(const Dataset& ds) const;
  /// The engine of connection `c` (kNone: the default).
  Result<Engine*> of_connection(ConnectionId c) const;
  /// Where `ds` lives, for messages: "the warehouse x.db", "connection `pg`".
  std::string where(const Model& m, const Dataset& ds) const;

 private:
  std::unique_ptr<Engine> default_;
  std::map<ConnectionId, std::unique_ptr<Engine>> engines_;
  std::map<ConnectionId, Status> errors_;
};

/// Sessions of one thread, opened lazily. Not thread-safe.
class EngineSessions {
 public:
  explicit EngineSessions(const Engines& engines) : engines_(engines) {}
  /// The session for `ds`'s engine.
  Result<EngineSession*> of(const Dataset& ds);
  /// The engine behind `ds` (for placeholders and hints).
  Result<Engine*> engine(const Dataset& ds) const { return engines_.of(ds); }

 private:
  const Engines& engines_;
  std::map<Engine*, std::unique_ptr<EngineSession>> sessions_;
};

}  // namespace dbuild::exec
