// dbuild's entry point: everything lives in the cli stage.
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"

int main(int argc, char** argv) {
  int code = dbuild::run_cli(argc, argv);
  // Exit without tearing down: a command's graph and state can hold millions of small
  // objects, and freeing them one by one costs more than the command's own work. Every
  // file and database is closed by then.
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(code);
}
