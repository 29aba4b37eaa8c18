// Command line: trailwatch run|once|validate|version, each with --help.
#pragma once

namespace agent {

int run_cli(int argc, char** argv);

}  // namespace agent
