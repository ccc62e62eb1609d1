// Options several commands share: which token (--token, --slot, --uri) and where the
// PINs come from (--pin-file, --so-pin-file, --new-pin-file), with the environment
// variables that back them.
#pragma once

#include "base/pin_source.h"

#include <ferrohsm/cryptoki.h>

#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace ferrohsm::cli {

struct TokenOptions {
  std::optional<CK_SLOT_ID> slot;
  std::string token;  // label
  std::string uri;    // pkcs11:…
};

struct PinFiles {
  std::string pin;      // user PIN
  std::string so_pin;   // SO PIN
  std::string new_pin;  // the new PIN of `pin change`
};

enum PinOption : unsigned { kUserPin = 1, kSoPin = 2, kNewPin = 4 };

void add_token_options(CLI::App& sub, TokenOptions& o);
void add_pin_options(CLI::App& sub, PinFiles& files, unsigned which);

PinSource user_pin(const PinFiles& f, bool confirm = false);
PinSource so_pin(const PinFiles& f, bool confirm = false);
// The new PIN of `pin change` (user or SO): --new-pin-file, $FERROHSM_NEW_PIN, prompt.
PinSource new_pin(const PinFiles& f, const std::string& what);

}  // namespace ferrohsm::cli
