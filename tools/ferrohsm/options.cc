#include "options.h"

#include <CLI/CLI.hpp>

namespace ferrohsm::cli {

void add_token_options(CLI::App& sub, TokenOptions& o) {
  auto* slot = sub.add_option("--slot", o.slot, "slot id of the token");
  auto* token = sub.add_option("--token", o.token, "label of the token");
  auto* uri = sub.add_option("--uri", o.uri, "PKCS#11 URI (RFC 7512), e.g. 'pkcs11:token=T;object=K;type=private'");
  slot->excludes(token);
  slot->excludes(uri);
  token->excludes(uri);
}

void add_pin_options(CLI::App& sub, PinFiles& files, unsigned which) {
  if (which & kUserPin)
    sub.add_option("--pin-file", files.pin, "file whose first line is the user PIN (else $FERROHSM_PIN, else a prompt)");
  if (which & kSoPin)
    sub.add_option("--so-pin-file", files.so_pin,
                   "file whose first line is the SO PIN (else $FERROHSM_SO_PIN, else a prompt)");
  if (which & kNewPin)
    sub.add_option("--new-pin-file", files.new_pin,
                   "file whose first line is the new PIN (else $FERROHSM_NEW_PIN, else a prompt)");
}

PinSource user_pin(const PinFiles& f, bool confirm) {
  return PinSource{"user PIN", f.pin, "--pin-file", "FERROHSM_PIN", confirm};
}

PinSource so_pin(const PinFiles& f, bool confirm) {
  return PinSource{"SO PIN", f.so_pin, "--so-pin-file", "FERROHSM_SO_PIN", confirm};
}

PinSource new_pin(const PinFiles& f, const std::string& what) {
  return PinSource{what, f.new_pin, "--new-pin-file", "FERROHSM_NEW_PIN", true};
}

}  // namespace ferrohsm::cli
