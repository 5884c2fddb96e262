#include "model/path_template.h"

#include <doctest/doctest.h>

namespace dbuild {
namespace {

TEST_CASE("path template: outputs that leave the workspace are found") {
  CHECK(escapes_workspace("/tmp/{day}.txt"));
  CHECK(escapes_workspace("../{day}.txt"));
  CHECK(escapes_workspace("out/../../{day}.txt"));
  CHECK(escapes_workspace("./../x"));
  CHECK(escapes_workspace(""));
  CHECK_FALSE(escapes_workspace("out/{day}.txt"));
  CHECK_FALSE(escapes_workspace("out/../{day}.txt"));
  CHECK_FALSE(escapes_workspace("./out//{day}/x.csv"));
  CHECK_FALSE(escapes_workspace("a..b/{day}.txt"));
}

}  // namespace
}  // namespace dbuild
