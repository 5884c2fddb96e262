// The one test binary: every foo_test.cc beside its foo.cc links into it (see CMakeLists.txt).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
