#include "base/diagnostic.h"

#include <doctest/doctest.h>

namespace dbuild {
namespace {

TEST_CASE("diagnostics render path:line:col, the line, a caret and the hint") {
  SourceFiles files;
  FileId f = files.add("rules/a.dbuild", "table t {\n  partition day: dat\n}\n");
  Diagnostics d;
  d.error(Span{f, 27, 30}, "unknown key type `dat`", "key types are date, month, hour, int, string");
  CHECK(render(d, files) ==
        "rules/a.dbuild:2:18: error: unknown key type `dat`\n"
        " 2 |   partition day: dat\n"
        "   |                  ^~~\n"
        "  hint: key types are date, month, hour, int, string\n");
}

TEST_CASE("a span past the end of its line is clipped - no location prints dbuild:") {
  SourceFiles files;
  FileId f = files.add("a.dbuild", "ab\ncd");
  Diagnostics d;
  d.warning(Span{f, 1, 5}, "spans lines");
  d.error(Span{}, "no workspace");
  CHECK(render(d, files) ==
        "a.dbuild:1:2: warning: spans lines\n"
        " 1 | ab\n"
        "   |  ^\n"
        "dbuild: error: no workspace\n");
  CHECK(d.has_errors());
}

TEST_CASE("line and column of offsets, including the end of the file") {
  SourceFiles files;
  FileId f = files.add("x", "a\n\nbc");
  CHECK(files.line_col(f, 0).line == 1);
  CHECK(files.line_col(f, 2).line == 2);
  CHECK(files.line_col(f, 4).col == 2);
  CHECK(files.line_col(f, 99).line == 3);
  CHECK(files.line_text(f, 3) == "bc");
}

}  // namespace
}  // namespace dbuild
