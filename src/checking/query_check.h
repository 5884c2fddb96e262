#pragma once
/// `dbuild check`'s engine pass (like flamy's `check long`): prepares every SQL table's query
/// on its engine's scratch session (Engine::open_scratch: on the embedded warehouse a private
/// in-memory database), in dependency order, against tables shaped like the sources and like
/// what each upstream query returns (on a server engine, the stored table where it exists).
/// Nothing runs and nothing is stored. SQL errors are reported at their place in the rule (or .sql) file, and the
/// engine's list of tables actually read is compared with the inputs dbuild inferred.
#include <string>

#include "base/diagnostic.h"
#include "eval/engines.h"
#include "model/model.h"

namespace dbuild::exec {

/// Reports problems to `diags`. Engines are read (never written) for the columns of table
/// sources; the first file of a CSV/TSV source without declared columns gives its header.
void check_queries(const Model& model, const Engines& engines, Diagnostics& diags);

}  // namespace dbuild::exec
