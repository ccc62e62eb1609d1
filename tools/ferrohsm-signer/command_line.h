// The daemon's command line (CLI11): flags into ConfigFlags, then the library's
// build_config (defaults, the --config TOML file, the flags over it, the checks).
#pragma once

#include <string>

#include "ferrohsm/signer/config.h"

namespace ferrohsm::signer {

// The outcome of reading the command line: run with `config`, or exit with `exit_code`
// after printing `output` (help, --list-providers, errors).
struct CommandLine {
  Config config;
  bool exit_now = false;
  int exit_code = 0;
  std::string output;
  bool pin_flag_used = false;  // --pkcs11-pin given: warn (dev only)
};

CommandLine parse_command_line(int argc, const char* const* argv);

}  // namespace ferrohsm::signer
