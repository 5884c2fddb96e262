#pragma once
/// The one place that knows every engine by name: opens the engines a model's rules declare
/// (the workspace's warehouse and each `connection`), resolving secrets from the environment.
#include <memory>
#include <string>

#include "eval/engines.h"
#include "model/model.h"

namespace dbuild {

/// The workspace's SQLite warehouse file: `workspace { warehouse = ... }`, relative to the root.
std::string warehouse_path(const Model& m);

/// The engines of `m`; `warehouse` is the workspace's SQLite file. A connection that cannot be
/// opened (an unset secret, an engine this build lacks) is kept as an error, reported when a
/// dataset that uses it is reached.
std::unique_ptr<exec::Engines> open_engines(const Model& m, const std::string& warehouse);

}  // namespace dbuild
