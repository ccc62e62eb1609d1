// Where a PIN comes from, in order: a file named by an option (its first line), an
// environment variable, or a no-echo prompt on the controlling terminal (/dev/tty).
// A PIN is never a plain command-line value, never printed and never logged; it lives
// in a Secret, which wipes its memory. Used by the CLI, the client layer and the signer.
#pragma once

#include "base/result.h"
#include "base/secret.h"

#include <string>

namespace ferrohsm {

struct PinSource {
  std::string what;         // "user PIN", "SO PIN", "new user PIN" — for prompts and messages
  std::string file;         // value of the file option ("" when not given)
  std::string file_option;  // "--pin-file" — named when no source is available
  std::string env;          // "FERROHSM_PIN"
  bool confirm = false;     // a new PIN: the prompt asks twice
};

// The first line of `path`, without its line ending. CKR_ARGUMENTS_BAD when the file
// cannot be read or the line is empty.
Result<Secret> read_pin_file(const std::string& path);

// The PIN from the first source available. With no file, no variable and no
// terminal: CKR_ARGUMENTS_BAD naming the option and the variable.
Result<Secret> obtain_pin(const PinSource& src);
// The same, with `what` (the command) in front of an error.
Result<Secret> obtain_pin(const PinSource& src, const std::string& what);

}  // namespace ferrohsm
