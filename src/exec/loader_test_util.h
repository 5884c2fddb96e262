#pragma once
/// Test helpers for the exec tests: the shared temporary directory.
#include "test_util.h"

namespace dbuild::exec::testing {

using dbuild::testing::TempDir;

}  // namespace dbuild::exec::testing
