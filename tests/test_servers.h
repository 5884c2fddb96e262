#pragma once
/// Database servers for engine tests. A test that needs one and cannot have it fails with the
/// reason: it never skips silently.
#include "base/status.h"
#include "engine/engine.h"

namespace dbuild::testing {

/// Settings for the PostgreSQL server tests use (database `postgres`, a superuser without a
/// password). From DBUILD_TEST_PG_HOST, _PORT, _USER, _DATABASE when set (CI starts one server
/// for the whole run with `eval "$(scripts/pg start DIR)"`); otherwise a private server started
/// once per test process with scripts/pg and stopped when the process exits.
Result<exec::ConnectionSettings> postgres_settings();

}  // namespace dbuild::testing
