#pragma once
/// The command line: parses arguments and dispatches to one command.
/// Exit codes: 0 success; 1 errors in the rules or a failed build; 2 `plan --exit-code` found
/// stale work; 3 another build holds the workspace lock; 64 bad usage.
namespace dbuild {

int run_cli(int argc, char** argv);

}  // namespace dbuild
