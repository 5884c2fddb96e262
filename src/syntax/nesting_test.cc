#include "syntax/nesting.h"

#include <string>

#include <doctest/doctest.h>

namespace dbuild {
namespace {

std::string repeat(char c, int n) { return std::string(static_cast<size_t>(n), c); }

TEST_CASE("nesting scan: the bracket that opens one level too many") {
  CHECK_FALSE(first_too_deep(repeat('(', kMaxNesting) + repeat(')', kMaxNesting)));
  CHECK(first_too_deep("x " + repeat('[', kMaxNesting + 1)) == 2u + kMaxNesting);
  // Closing brackets free levels; mixed kinds all count.
  std::string mixed;
  for (int i = 0; i < 1000; ++i) mixed += "({[]})";
  CHECK_FALSE(first_too_deep(mixed));
  CHECK(first_too_deep(repeat('{', 60) + repeat('(', 41)) == 100u);
}

TEST_CASE("nesting scan: strings and comments hold text, not brackets") {
  std::string deep = repeat('(', 500);
  CHECK_FALSE(first_too_deep("\"" + deep + "\""));
  CHECK_FALSE(first_too_deep("\"\\\"" + deep + "\""));       // an escaped quote does not close
  CHECK_FALSE(first_too_deep("'" + deep + "'"));
  CHECK_FALSE(first_too_deep("\"\"\"\n" + deep + "\n\"\"\""));
  CHECK_FALSE(first_too_deep("# " + deep + "\n"));
  // A one-line string ends at the line's end, as the grammar reads it.
  CHECK(first_too_deep("\"open\n" + deep).has_value());
  CHECK(first_too_deep("# comment\n" + deep).has_value());
}

}  // namespace
}  // namespace dbuild
