#pragma once
/// The identity of the engine a dataset runs on, as action keys hash it: the engine's kind and
/// its connection's settings, and for a secret only the name of the variable it comes from,
/// never its value. Moving a dataset to another engine, or a connection to another server,
/// changes its definition, so it is rebuilt there.
#include "base/hash.h"
#include "model/model.h"

namespace dbuild {

/// Adds the identity of `ds`'s engine to `h`.
void add_engine_identity(Hasher& h, const Model& m, const Dataset& ds);

}  // namespace dbuild
