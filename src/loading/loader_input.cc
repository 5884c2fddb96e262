#include "loading/loader_input.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace dbuild::exec {

Result<std::unique_ptr<LoaderInput>> LoaderInput::open(const std::string& path, size_t chunk) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::unique_ptr<LoaderInput> in(new LoaderInput(fd, path, chunk));
  Status s = in->fill();
  if (!s.ok()) return s;
  in->skip_bom();
  return in;
}

LoaderInput::LoaderInput(int fd, std::string path, size_t chunk)
    : fd_(fd), path_(std::move(path)), buf_(new char[chunk]), cap_(chunk) {}

LoaderInput::~LoaderInput() { ::close(fd_); }

void LoaderInput::skip_bom() {
  if (window().substr(0, 3) == "\xEF\xBB\xBF") begin_ += 3;
}

Status LoaderInput::fill() {
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == cap_) {
    std::unique_ptr<char[]> bigger(new char[cap_ * 2]);
    std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    cap_ *= 2;
  }
  while (end_ < cap_) {
    ssize_t n = ::read(fd_, buf_.get() + end_, cap_ - end_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error(fmt::format("{}: read failed: {}", path_, std::strerror(errno)));
    if (n == 0) {
      eof_ = true;
      break;
    }
    end_ += static_cast<size_t>(n);
    bytes_read_ += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Result<bool> LoaderInput::next_nonempty_line(std::string_view* text, uint64_t* number) {
  for (;;) {
    Result<bool> got = next_line(text, number);
    if (!got.ok() || !*got || !text->empty()) return got;
  }
}

Result<bool> LoaderInput::next_line(std::string_view* text, uint64_t* number) {
  for (;;) {
    std::string_view w = window();
    const void* nl = std::memchr(w.data(), '\n', w.size());
    if (nl != nullptr || (eof_ && !w.empty())) {
      size_t len = nl ? static_cast<size_t>(static_cast<const char*>(nl) - w.data()) : w.size();
      *text = w.substr(0, len);
      if (!text->empty() && text->back() == '\r') text->remove_suffix(1);
      *number = line_;
      consume(nl ? len + 1 : len, 1);
      return true;
    }
    if (eof_) return false;
    Status s = fill();
    if (!s.ok()) return s;
  }
}

}  // namespace dbuild::exec
