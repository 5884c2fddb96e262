// The incremental scenarios on the embedded warehouse; the server engines run the same
// scenarios in their own tests.
#include <doctest/doctest.h>

#include "engine_scenarios.h"

namespace dbuild {
namespace {

TEST_CASE("engine scenarios: sqlite warehouse") { testing::run_engine_scenarios(""); }

TEST_CASE("engine scenarios: a sqlite connection") {
  testing::run_engine_scenarios(
      "connection side { engine = \"sqlite\"  path = \"side.db\" }\nworkspace { default_connection = side }\n");
}

}  // namespace
}  // namespace dbuild
