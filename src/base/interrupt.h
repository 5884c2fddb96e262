#pragma once
/// Interrupt: how a build stops cleanly on SIGINT or SIGTERM (docs/architecture.md, "Build
/// protocol").
///
/// install_interrupt_handlers() makes the first SIGINT or SIGTERM set a process-wide flag and
/// forward the signal to every registered child process group (shell commands run in their own
/// group, so a command stops with dbuild); code that runs long polls interrupt_signal() and
/// stops at a safe point: the SQLite engine aborts its statement (the transaction rolls back),
/// the evaluator starts nothing new. A second signal ends the process at once with the default
/// action: that is as safe as SIGKILL, which the build protocol tolerates.
///
/// Thread-safety: everything here is async-signal-safe and may be called from any thread.
#include <sys/types.h>

namespace dbuild {

/// Installs the handlers for SIGINT and SIGTERM (once; later calls do nothing).
void install_interrupt_handlers();
/// The signal that asked the process to stop; 0 while none did.
int interrupt_signal();
/// Sets the flag as a signal would (for tests, and for code that must stop the build itself).
void request_interrupt(int signal);
/// Forgets a request (for tests).
void clear_interrupt();

/// Registers a child process group to receive a forwarded stop signal. Returns a slot to pass to
/// unregister_child_group, or -1 when every slot is taken (the child then only gets signals the
/// terminal sends to the whole foreground group).
int register_child_group(pid_t pgid);
void unregister_child_group(int slot);

}  // namespace dbuild
