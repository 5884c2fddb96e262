#include "loading/file_hash.h"

#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include <fmt/format.h>

#include "base/hash.h"

namespace dbuild::exec {
namespace {

int64_t ns(const struct timespec& t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

}  // namespace

Status hash_file(const std::string& path, StatEntry& entry) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Error(fmt::format("cannot read {}", path));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Status::Error(fmt::format("cannot read {}", path));
  }
  entry.dev = st.st_dev;
  entry.ino = st.st_ino;
  entry.size = static_cast<uint64_t>(st.st_size);
  entry.mtime_ns = ns(st.st_mtim);
  entry.ctime_ns = ns(st.st_ctim);
  Hasher h;
  std::vector<char> buf(1 << 20);
  ssize_t n;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0) h.add_raw(buf.data(), static_cast<size_t>(n));
  ::close(fd);
  if (n < 0) return Status::Error(fmt::format("cannot read {}", path));
  entry.content_hash = h.finish();
  return Status::Ok();
}

bool same_stat(const StatEntry& a, const struct stat& st) {
  return a.dev == st.st_dev && a.ino == st.st_ino && a.size == static_cast<uint64_t>(st.st_size) &&
         a.mtime_ns == ns(st.st_mtim) && a.ctime_ns == ns(st.st_ctim);
}

}  // namespace dbuild::exec
