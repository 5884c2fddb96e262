#pragma once
/// Content hashes of files, with the stat identity they were taken under, for the stat cache:
/// a file whose stat still matches its cached entry is not read again.
#include <sys/stat.h>

#include <string>

#include "base/status.h"
#include "state/state_records.h"

namespace dbuild::exec {

/// Stats and hashes (XXH3-128 of the bytes) the regular file at `path` into `entry`.
/// Fails, naming the path, when it cannot be read.
Status hash_file(const std::string& path, StatEntry& entry);

/// True when `st` is the identity `entry` was hashed under (device, inode, size, mtime, ctime).
bool same_stat(const StatEntry& entry, const struct stat& st);

}  // namespace dbuild::exec
