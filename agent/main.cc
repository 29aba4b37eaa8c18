// Thin main: argv -> agent::run() -> exit code.
#include "agent/app/cli.h"

int main(int argc, char** argv) { return agent::run_cli(argc, argv); }
