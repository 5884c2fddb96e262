#pragma once
/// The incremental scenarios every engine must pass, through the real binary: a first build,
/// a no-op, one source file changed, a query edited, a formatting edit, and a failing
/// partition that keeps its old data. `header` is rule text that puts the pipeline on the
/// engine under test (a connection and `workspace { default_connection = ... }`, or nothing
/// for the embedded warehouse); `env` is the environment for dbuild (its secrets). A `secret`
/// given must never appear in dbuild's output, its state or its logs.
#include <string>

namespace dbuild::testing {

void run_engine_scenarios(const std::string& header, const std::string& env = "", const std::string& secret = "");

}  // namespace dbuild::testing
