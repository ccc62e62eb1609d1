// `ferrohsm import-p12`: a PKCS#12 private key (RSA/EC) and its certificate into a token
// of any PKCS#11 library, through the client layer. Its PIN and password come from the
// base PIN sources (file, environment, no-echo prompt).
#include "commands.h"

#include "base/bytes.h"
#include "base/pin_source.h"

#include <CLI/CLI.hpp>
#include <ferrohsm/client/import_p12.h>
#include <ferrohsm/client/module.h>

#include <iostream>
#include <memory>
#include <optional>

namespace ferrohsm::cli {
namespace {

struct Options {
  std::string module, token, pin_file, p12, password_file, key_label, cert_label, id_hex;
  std::optional<CK_SLOT_ID> slot;
};

// The client layer's error, as the CLI prints it.
std::string said(const client::Error& e) { return e.message; }

Result<std::string> run(const Options& o) {
  Bytes id;
  if (!from_hex(o.id_hex, id)) return make_error(CKR_ARGUMENTS_BAD, "--id is not an even number of hex digits");
  FH_ASSIGN_OR_RETURN(Secret password,
                      obtain_pin({"PKCS#12 password", o.password_file, "--password-file", "", false}));
  auto contents = client::read_p12(o.p12, password);
  password.wipe();
  if (!contents) return make_error(CKR_ARGUMENTS_BAD, said(contents.error()));
  FH_ASSIGN_OR_RETURN(Secret pin, obtain_pin({"user PIN", o.pin_file, "--pin-file", "FERROHSM_PIN", false}));
  auto module = client::Module::load(o.module);
  if (!module) return make_error(CKR_GENERAL_ERROR, said(module.error()));
  CK_SLOT_ID slot = 0;
  if (o.slot) {
    slot = *o.slot;
  } else {
    auto found = (*module)->find_token(o.token);
    if (!found) return make_error(found.error().rv, said(found.error()));
    slot = *found;
  }
  auto session = (*module)->open_session(slot, true);
  if (!session) return make_error(session.error().rv, said(session.error()));
  if (auto in = session->login(CKU_USER, pin); !in) return make_error(in.error().rv, said(in.error()));
  pin.wipe();
  client::Status imported = client::import_p12(*session, *contents, client::ImportRequest{o.key_label, o.cert_label, id});
  (void)session->logout();
  if (!imported) return make_error(imported.error().rv == CKR_OK ? CKR_FUNCTION_FAILED : imported.error().rv,
                                   said(imported.error()));
  return "imported '" + o.key_label + "' into " + (o.slot ? "slot " + std::to_string(*o.slot) : "token '" + o.token + "'");
}

}  // namespace

void register_import_p12_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("import-p12", "Import a PKCS#12 private key (RSA/EC) and certificate into a token");
  sub->add_option("--module", opts->module, "PKCS#11 library to import into")->required();
  auto* slot = sub->add_option("--slot", opts->slot, "slot id");
  auto* token = sub->add_option("--token", opts->token, "token label");
  slot->excludes(token);
  sub->add_option("--pin-file", opts->pin_file, "file whose first line is the user PIN (else $FERROHSM_PIN, else a prompt)");
  sub->add_option("--p12", opts->p12, "PKCS#12 file")->required()->check(CLI::ExistingFile);
  sub->add_option("--password-file", opts->password_file, "file whose first line is the PKCS#12 password (else a prompt)");
  sub->add_option("--key-label", opts->key_label, "CKA_LABEL of the private (and public) key")->required();
  sub->add_option("--cert-label", opts->cert_label, "CKA_LABEL of the certificate (default: the key label)");
  sub->add_option("--id", opts->id_hex, "CKA_ID in hex (empty: none)");
  sub->callback([opts] {
    if (!opts->slot && opts->token.empty()) {
      std::cerr << "import-p12: give --slot ID or --token LABEL\n";
      throw CLI::RuntimeError(2);
    }
    auto done = run(*opts);
    if (!done) {
      std::cerr << "import-p12: " << done.error().message << "\n";
      throw CLI::RuntimeError(1);
    }
    std::cout << *done << "\n";
  });
}

}  // namespace ferrohsm::cli
