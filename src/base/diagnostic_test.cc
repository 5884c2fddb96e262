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

/// One error on `dat` (the last occurrence) in a one-line file, rendered.
std::string render_at_dat(const std::string& line) {
  SourceFiles files;
  FileId f = files.add("a.dbuild", line + "\n");
  uint32_t at = static_cast<uint32_t>(line.rfind("dat"));
  Diagnostics d;
  d.error(Span{f, at, at + 3}, "unknown `dat`");
  return render(d, files);
}

TEST_CASE("diagnostics on a line with an accented letter count it as one column") {
  CHECK(render_at_dat("\"café\" dat") ==
        "a.dbuild:1:8: error: unknown `dat`\n"
        " 1 | \"café\" dat\n"
        "   |        ^~~\n");
}

TEST_CASE("diagnostics pad two columns for each CJK character and underline CJK by width") {
  CHECK(render_at_dat("\"中文\" dat") ==
        "a.dbuild:1:6: error: unknown `dat`\n"
        " 1 | \"中文\" dat\n"
        "   |        ^~~\n");
  SourceFiles files;
  FileId f = files.add("a.dbuild", "\"中文\" x\n");
  Diagnostic d{Severity::Warning, Span{f, 1, 7}, "wide", ""};
  CHECK(render(d, files) ==
        "a.dbuild:1:2: warning: wide\n"
        " 1 | \"中文\" x\n"
        "   |  ^~~~\n");
}

TEST_CASE("diagnostics after an emoji pad its two columns") {
  CHECK(render_at_dat("-- 🎉 dat") ==
        "a.dbuild:1:6: error: unknown `dat`\n"
        " 1 | -- 🎉 dat\n"
        "   |       ^~~\n");
}

TEST_CASE("diagnostics keep tabs in the caret line and count characters after them by width") {
  CHECK(render_at_dat("\t\tx é\tdat") ==
        "a.dbuild:1:7: error: unknown `dat`\n"
        " 1 | \t\tx é\tdat\n"
        "   | \t\t   \t^~~\n");
}

TEST_CASE("positions count code points and UTF-16 units - and convert back") {
  std::string text = "a\n中🎉b\n\xff" "c";
  TextPosition b = text_position(text, 9);  // the `b`
  CHECK(b.line == 2);
  CHECK(b.column == 3);
  CHECK(b.utf16_column == 4);
  CHECK(b.byte_column == 8);
  CHECK(offset_of_utf16(text, 2, 4) == 9);
  CHECK(offset_of_utf16(text, 2, 2) == 5);   // the emoji
  CHECK(offset_of_utf16(text, 2, 3) == 5);   // inside its surrogate pair: its start
  CHECK(offset_of_utf16(text, 2, 99) == 10);  // past the line: its end
  CHECK(offset_of_utf16(text, 9, 1) == text.size());
  TextPosition c = text_position(text, 12);  // after an invalid byte: one column
  CHECK(c.line == 3);
  CHECK(c.column == 2);
  CHECK(c.utf16_column == 2);
  CHECK(text_position(text, 4).column == 1);  // inside 中: its start
  CHECK(text_position(text, 5).column == 2);
  SourceFiles files;
  FileId f = files.add("x", text);
  for (uint32_t o = 0; o <= text.size(); ++o) {
    TextPosition p = files.position(f, o);
    TextPosition q = text_position(text, o);
    CHECK(p.line == q.line);
    CHECK(p.column == q.column);
    CHECK(p.utf16_column == q.utf16_column);
    CHECK(p.byte_column == q.byte_column);
    CHECK(files.offset_of_utf16(f, p.line, p.utf16_column) == offset_of_utf16(text, p.line, p.utf16_column));
  }
  for (uint32_t o : {0u, 1u, 2u, 5u, 9u, 10u, 11u, 12u, 13u})  // every character start
    CHECK(offset_of_utf16(text, text_position(text, o).line, text_position(text, o).utf16_column) == o);
}

TEST_CASE("UTF-8 decoding rejects overlong forms and surrogates - widths come from a fixed table") {
  CHECK_FALSE(decode_utf8("\xc0\xaf", 0).valid);
  CHECK_FALSE(decode_utf8("\xed\xa0\x80", 0).valid);
  CHECK_FALSE(decode_utf8("\xe4\xb8", 0).valid);  // cut short
  CHECK(decode_utf8("\xe4\xb8\xad", 0).code_point == 0x4E2D);
  CHECK(decode_utf8("\xe4\xb8\xad", 0).length == 3);
  CHECK(display_width('a') == 1);
  CHECK(display_width(0xE9) == 1);
  CHECK(display_width(0x0301) == 0);  // combining acute accent
  CHECK(display_width(0x4E2D) == 2);
  CHECK(display_width(0x1F389) == 2);
  CHECK(display_width(0xAC00) == 2);  // Hangul
}

}  // namespace
}  // namespace dbuild
