#pragma once
/// The LSP base protocol: each message is a header block (`Content-Length: N`, optionally
/// `Content-Type`, each line ending in \r\n, then an empty line) followed by N bytes of JSON.
/// MessageReader takes bytes as they arrive from a pipe, in any split (half a header, several
/// messages in one read), and hands out whole bodies. A bad header block (no or malformed
/// Content-Length, an absurd length) is an error for that message: the reader skips it and
/// goes on with the next, it never throws. frame() writes one message.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace dbuild::lsp {

/// Larger bodies are refused (a client never sends one; a corrupt length must not allocate).
inline constexpr size_t kMaxMessageBytes = size_t{64} << 20;

class MessageReader {
 public:
  /// Appends bytes read from the stream.
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  /// The next whole message body; an Error for a bad header block (already skipped); nullopt
  /// when more bytes are needed.
  std::optional<Result<std::string>> next();

 private:
  std::string buffer_;
  size_t pos_ = 0;  // start of the unread part of buffer_
};

/// `Content-Length: N\r\n\r\n` + body.
std::string frame(std::string_view body);

}  // namespace dbuild::lsp
