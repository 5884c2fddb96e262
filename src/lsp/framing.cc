#include "lsp/framing.h"

#include <charconv>

#include <fmt/format.h>

namespace dbuild::lsp {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// The Content-Length of a header block (without its final blank line), or an error.
Result<size_t> content_length(std::string_view headers) {
  std::optional<size_t> length;
  while (!headers.empty()) {
    size_t eol = headers.find('\n');
    std::string_view line = headers.substr(0, eol);
    headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 1);
    line = trim(line);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      return Status::Error(fmt::format("bad header line `{}`: expected `Name: value`", line));
    if (!iequals(trim(line.substr(0, colon)), "Content-Length")) continue;
    std::string_view value = trim(line.substr(colon + 1));
    size_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size())
      return Status::Error(fmt::format("bad Content-Length `{}`", value));
    if (n > kMaxMessageBytes)
      return Status::Error(fmt::format("Content-Length {} is larger than {} bytes", n, kMaxMessageBytes));
    length = n;
  }
  if (!length) return Status::Error("a message without Content-Length header");
  return *length;
}

}  // namespace

std::optional<Result<std::string>> MessageReader::next() {
  // Headers end at the first blank line; accept a bare \n\n from sloppy clients too.
  std::string_view rest = std::string_view(buffer_).substr(pos_);
  size_t crlf = rest.find("\r\n\r\n"), lf = rest.find("\n\n");
  size_t end = std::min(crlf, lf);
  if (end == std::string_view::npos) {
    if (rest.size() > 64 * 1024) {  // no header block is that long: drop the garbage
      buffer_.clear();
      pos_ = 0;
      return Result<std::string>(Status::Error("a header block longer than 64 KiB"));
    }
    return std::nullopt;
  }
  size_t body_begin = end + (end == crlf ? 4 : 2);
  auto length = content_length(rest.substr(0, end));
  if (!length.ok()) {
    pos_ += body_begin;
    return Result<std::string>(length.status());
  }
  if (rest.size() - body_begin < *length) return std::nullopt;
  std::string body(rest.substr(body_begin, *length));
  pos_ += body_begin + *length;
  if (pos_ == buffer_.size() || pos_ > (size_t{1} << 20)) {  // keep the buffer small
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  return Result<std::string>(std::move(body));
}

std::string frame(std::string_view body) {
  return fmt::format("Content-Length: {}\r\n\r\n{}", body.size(), body);
}

}  // namespace dbuild::lsp
