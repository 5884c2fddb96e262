#include "eval/engines.h"

#include <fmt/format.h>

namespace dbuild::exec {

void Engines::set(ConnectionId c, Result<std::unique_ptr<Engine>> engine) {
  if (engine.ok()) engines_[c] = std::move(*engine);
  else errors_[c] = engine.status();
}

Result<Engine*> Engines::of_connection(ConnectionId c) const {
  if (c == kNone) {
    if (!default_) return Status::Error("no warehouse engine was set up");
    return default_.get();
  }
  if (auto e = engines_.find(c); e != engines_.end()) return e->second.get();
  if (auto e = errors_.find(c); e != errors_.end()) return e->second;
  return Status::Error("this connection's engine was not set up");
}

Result<Engine*> Engines::of(const Dataset& ds) const { return of_connection(ds.connection); }

std::string Engines::where(const Model& m, const Dataset& ds) const {
  if (ds.connection == kNone) return default_ ? fmt::format("the warehouse {}", default_->describe()) : "the warehouse";
  return fmt::format("connection `{}`", m.connections[ds.connection].name);
}

Result<EngineSession*> EngineSessions::of(const Dataset& ds) {
  auto e = engines_.of(ds);
  if (!e.ok()) return e.status();
  auto& s = sessions_[*e];
  if (!s) {
    auto opened = (*e)->open();
    if (!opened.ok()) return opened.status();
    s = std::move(*opened);
  }
  return s.get();
}

}  // namespace dbuild::exec
