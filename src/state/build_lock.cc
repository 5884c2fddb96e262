#include "state/build_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace dbuild {
namespace {

constexpr size_t kMaxHolderBytes = 4096;

std::string local_time_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

/// The holder record: "pid <n>\nstarted <time>\ncommand <text>\n". Newlines in the command
/// are replaced so the record stays three lines.
std::string holder_record(const std::string& description) {
  std::string command = description;
  for (char& c : command) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return fmt::format("pid {}\nstarted {}\ncommand {}\n", ::getpid(), local_time_now(), command);
}

/// The value of "<field> <value>" in the record; empty if absent.
std::string_view field(std::string_view record, std::string_view name) {
  size_t pos = 0;
  while (pos < record.size()) {
    size_t end = record.find('\n', pos);
    if (end == std::string_view::npos) end = record.size();
    std::string_view line = record.substr(pos, end - pos);
    if (line.size() > name.size() && line.starts_with(name) && line[name.size()] == ' ') {
      return line.substr(name.size() + 1);
    }
    pos = end + 1;
  }
  return {};
}

/// The message for a lock held by someone else, from what they wrote in the file.
std::string held_message(int fd) {
  char buf[kMaxHolderBytes];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  std::string_view record(buf, n > 0 ? static_cast<size_t>(n) : 0);
  std::string_view pid = field(record, "pid");
  std::string who = pid.empty() ? "holder unknown" : fmt::format("pid {}", pid);
  std::string_view started = field(record, "started");
  if (!started.empty()) who += fmt::format(", started {}", started);
  std::string_view command = field(record, "command");
  if (!command.empty()) who += fmt::format(": {}", command);
  return fmt::format("another dbuild build is running ({}); wait for it or stop it", who);
}

int lock_nonblocking(int fd) {
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  return rc;
}

}  // namespace

Result<BuildLock> BuildLock::acquire(const std::string& lock_path,
                                     const std::string& holder_description,
                                     bool* held_by_other) {
  if (held_by_other) *held_by_other = false;
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::Error(fmt::format("cannot open {}: {}", lock_path, std::strerror(errno)));
  }
  if (lock_nonblocking(fd) != 0) {
    int err = errno;
    if (held_by_other) *held_by_other = err == EWOULDBLOCK;
    std::string message = err == EWOULDBLOCK
                              ? held_message(fd)
                              : fmt::format("cannot lock {}: {}", lock_path, std::strerror(err));
    ::close(fd);
    return Status::Error(message);
  }
  BuildLock lock(fd);
  std::string record = holder_record(holder_description);
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size())) {
    return Status::Error(
        fmt::format("cannot write {}: {}", lock_path, std::strerror(errno)));  // lock released
  }
  return lock;
}

BuildLock::BuildLock(BuildLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

BuildLock& BuildLock::operator=(BuildLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void BuildLock::release() {
  if (fd_ < 0) return;
  if (::ftruncate(fd_, 0) != 0) {
    // The stale record is harmless: it is only read while someone else holds the lock.
  }
  ::flock(fd_, LOCK_UN);  // also for copies of the descriptor a forked child may still hold
  ::close(fd_);
  fd_ = -1;
}

}  // namespace dbuild
