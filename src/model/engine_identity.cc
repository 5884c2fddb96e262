#include "model/engine_identity.h"

namespace dbuild {

void add_engine_identity(Hasher& h, const Model& m, const Dataset& ds) {
  if (ds.connection == kNone) {  // the workspace's warehouse, an embedded SQLite file
    h.add("sqlite:").add(m.warehouse);
    return;
  }
  const ConnectionDef& c = m.connections[ds.connection];
  h.add(c.engine);
  for (const auto& [k, v] : c.settings) h.add(k).add(v);
  for (const auto& [k, v] : c.env) h.add(k).add(v);  // variable names, never their values
}

}  // namespace dbuild
