#include "lsp/framing.h"

#include <doctest/doctest.h>

namespace dbuild::lsp {

TEST_CASE("lsp: framing reads a message split across many reads") {
  std::string msg = frame(R"({"jsonrpc":"2.0","method":"initialized"})");
  MessageReader r;
  for (size_t i = 0; i + 1 < msg.size(); ++i) {
    r.feed(msg.substr(i, 1));
    CHECK_FALSE(r.next().has_value());
  }
  r.feed(msg.substr(msg.size() - 1));
  auto m = r.next();
  REQUIRE(m.has_value());
  REQUIRE(m->ok());
  CHECK(**m == R"({"jsonrpc":"2.0","method":"initialized"})");
  CHECK_FALSE(r.next().has_value());
}

TEST_CASE("lsp: framing reads several messages from one read, with Content-Type") {
  MessageReader r;
  r.feed(frame("{\"a\":1}") + "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: 7\r\n\r\n{\"b\":2}" +
         frame("é"));
  auto a = r.next(), b = r.next(), c = r.next();
  REQUIRE((a && b && c));
  CHECK(**a == "{\"a\":1}");
  CHECK(**b == "{\"b\":2}");
  CHECK(**c == "é");  // the length counts bytes, not characters
  CHECK_FALSE(r.next().has_value());
}

TEST_CASE("lsp: framing reports bad headers and goes on with the next message") {
  MessageReader r;
  r.feed("Content-Length: abc\r\n\r\n" + std::string("Content-Type: x\r\n\r\n") + "garbage line\r\n\r\n" +
         "Content-Length: 99999999999999999999\r\n\r\n" + frame("{}"));
  for (const char* expected : {"bad Content-Length", "without Content-Length", "bad header line", "bad Content-Length"}) {
    auto m = r.next();
    REQUIRE(m.has_value());
    REQUIRE_FALSE(m->ok());
    CHECK(m->status().message().find(expected) != std::string::npos);
  }
  auto ok = r.next();
  REQUIRE(ok.has_value());
  REQUIRE(ok->ok());
  CHECK(**ok == "{}");
}

TEST_CASE("lsp: framing refuses a huge length without allocating it") {
  MessageReader r;
  r.feed("Content-Length: 1000000000000\r\n\r\n");
  auto m = r.next();
  REQUIRE(m.has_value());
  CHECK_FALSE(m->ok());
}

}  // namespace dbuild::lsp
