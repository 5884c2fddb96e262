#pragma once
/// BuildLock: the exclusive per-workspace build lock (docs/architecture.md, invariant 4: one build at a time;
/// read-only commands do not take it). It is an flock(2) on <workspace>/.dbuild/build.lock, so
/// the kernel releases it when the holder exits, however it exits: a lock left by a dead process
/// is free. The holder writes its pid, start time and command into the file so that a second
/// build can say who is in the way.
///
/// flock locks belong to an open file description: a second acquire() in the same process
/// fails too, and a forked child shares its parent's lock until both close it (the descriptor is
/// close-on-exec, so executed commands do not inherit it). Not for NFS.
/// Movable, not copyable; thread-compatible.
#include <string>

#include "base/status.h"

namespace dbuild {

/// An acquired build lock; released on destruction. A default-constructed BuildLock holds nothing.
class BuildLock {
 public:
  /// Takes the lock at `lock_path` (created if missing) without waiting, and records
  /// `holder_description` (e.g. the command line) in it. Error if another holder has it:
  /// "another dbuild build is running (pid 1234, started 2026-11-30 10:02:03: dbuild build
  /// -j2); wait for it or stop it".
  /// *held_by_other (if given) tells that case apart from others (the file cannot be opened,
  /// e.g. a read-only workspace).
  static Result<BuildLock> acquire(const std::string& lock_path,
                                   const std::string& holder_description,
                                   bool* held_by_other = nullptr);

  BuildLock() = default;
  ~BuildLock() { release(); }
  BuildLock(BuildLock&& other) noexcept;
  BuildLock& operator=(BuildLock&& other) noexcept;
  BuildLock(const BuildLock&) = delete;
  BuildLock& operator=(const BuildLock&) = delete;

  bool held() const { return fd_ >= 0; }
  /// Clears the holder record and releases the lock. Idempotent.
  void release();

 private:
  explicit BuildLock(int fd) : fd_(fd) {}
  int fd_ = -1;  // the locked file; -1: holds nothing
};

}  // namespace dbuild
