#pragma once
/// LoaderInput: a file read in large chunks into one buffer, for parsers that work in place.
/// Parsers look at window(), the bytes not yet consumed. When a record does not end inside the
/// window and the file has more, they call fill() and parse the record again from its start;
/// fill() keeps the window and grows the buffer when one record is larger than it.
/// Views into window() stay valid until the next fill() or next_line().
/// Not thread-safe.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace dbuild::exec {

/// A file being read chunk by chunk, with the line number of the window's start.
class LoaderInput {
 public:
  static constexpr size_t kDefaultChunk = 4 << 20;

  /// Opens `path` for reading. REQUIRES: chunk > 0.
  static Result<std::unique_ptr<LoaderInput>> open(const std::string& path,
                                                   size_t chunk = kDefaultChunk);
  ~LoaderInput();
  LoaderInput(const LoaderInput&) = delete;
  LoaderInput& operator=(const LoaderInput&) = delete;

  std::string_view window() const { return {buf_.get() + begin_, end_ - begin_}; }
  /// True once the file has been read to its end: window() holds everything left.
  bool eof() const { return eof_; }
  /// Reads more of the file into the window. REQUIRES: !eof().
  Status fill();
  /// Drops the first `n` bytes of the window, which hold `newlines` line breaks.
  void consume(size_t n, uint64_t newlines) {
    begin_ += n;
    line_ += newlines;
  }
  /// 1-based line number of the first byte of window().
  uint64_t line() const { return line_; }
  /// The next line, without "\n" or "\r\n"; false at the end of the file. *number gets its line.
  Result<bool> next_line(std::string_view* text, uint64_t* number);
  /// next_line(), skipping empty lines.
  Result<bool> next_nonempty_line(std::string_view* text, uint64_t* number);
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  LoaderInput(int fd, std::string path, size_t chunk);
  void skip_bom();

  int fd_;
  std::string path_;
  std::unique_ptr<char[]> buf_;
  size_t cap_;
  size_t begin_ = 0;  // window() is [begin_, end_)
  size_t end_ = 0;
  bool eof_ = false;
  uint64_t line_ = 1;
  uint64_t bytes_read_ = 0;
};

}  // namespace dbuild::exec
