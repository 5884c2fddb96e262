#pragma once
/// `dbuild check`'s engine pass (like flamy's `check long`): prepares every SQL table's query
/// on a private in-memory SQLite database, in dependency order, against empty tables shaped
/// like the sources and like what each upstream query returns. Nothing runs and the warehouse
/// is not touched. SQL errors are reported at their place in the rule (or .sql) file, and the
/// engine's list of tables actually read is compared with the inputs dbuild inferred.
#include <string>

#include "base/diagnostic.h"
#include "model/model.h"

namespace dbuild::exec {

/// Reports problems to `diags`. `warehouse` is read (never written) for the columns of
/// table sources; the first file of a CSV/TSV source without declared columns gives its header.
void check_queries(const Model& model, const std::string& warehouse, Diagnostics& diags);

}  // namespace dbuild::exec
