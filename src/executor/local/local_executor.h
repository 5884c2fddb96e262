#pragma once
/// The local executor: runs each job as `/bin/sh -c` in a process group of its own on this
/// machine, at most `parallelism` at once.
///
/// Jobs start with posix_spawn, not fork: the build is multithreaded, and everything the child
/// needs (environment, argv, file actions) is built before it exists, so nothing runs between
/// the spawn and the exec. The child's signal mask is emptied and the signals dbuild handles or
/// may ignore (INT, TERM, HUP, QUIT, PIPE) are reset to their defaults, so a command behaves as
/// it would from a shell. Each child's group is registered with base/interrupt, so Ctrl-C or
/// SIGTERM to dbuild reaches the whole command at once.
///
/// One waiting thread watches every child through a pidfd (poll, no thread per job) and
/// reports each as it exits.
///
/// Leftovers. A command outlives a coordinator killed with SIGKILL (it has a group of its own),
/// and would go on writing its temporary output, where the next build's command for the same
/// partition writes too. So when given a `leftovers` file, the executor appends each child's
/// process group and start time there before the job counts as started, and a new executor
/// first kills the groups listed there that still run (the start time tells a reused pid from
/// the child) and waits until they are gone. A child runs its command only after it is listed:
/// it waits for a go-ahead line on a pipe, which a killed dbuild never sends.
#include <memory>
#include <string>

#include "executor/executor.h"

namespace dbuild::exec {

/// A local executor running up to `parallelism` jobs at once (at least 1), after killing the
/// leftovers listed in `leftovers` ("": none kept).
std::unique_ptr<Executor> make_local_executor(int parallelism, const std::string& leftovers = "");

}  // namespace dbuild::exec
