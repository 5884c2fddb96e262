// dbuild's entry point: everything lives in the cli stage.
#include "cli/commands.h"

int main(int argc, char** argv) { return dbuild::run_cli(argc, argv); }
