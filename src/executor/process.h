#pragma once
/// What the executors share about starting processes.
#include <spawn.h>

#include <string>

namespace dbuild::exec {

/// Quotes a value for the shell: 'it'\''s'.
std::string shell_quote(const std::string& s);

/// Attributes for posix_spawn: the child gets a process group of its own (so a signal to the
/// group reaches all of it, and the terminal's Ctrl-C reaches it only through dbuild), an empty
/// signal mask, and the default action for the signals dbuild handles or may ignore (INT,
/// TERM, HUP, QUIT, PIPE), so it behaves as it would from a shell. Destroy with
/// posix_spawnattr_destroy.
void init_spawn_attributes(posix_spawnattr_t* attr);

}  // namespace dbuild::exec
