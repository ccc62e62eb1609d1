// ferrohsm — the command-line tool: manages tokens, PINs, keys and certificates in
// the FerroHSM store through the same core as the PKCS#11 module. See docs/CLI.md.
#include "commands.h"
#include "exit_codes.h"

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

namespace {

int run(int argc, char** argv) {
  using namespace ferrohsm::cli;
  CLI::App app{"ferrohsm — manage FerroHSM tokens, PINs, keys and certificates"};
  app.fallthrough();  // --json and --config may come after the subcommand
  app.require_subcommand(1);
  Globals g;
  app.add_option("--config", g.config, "configuration file (default: $FERROHSM_CONF, then XDG config, then /etc)");
  app.add_flag("--json", g.json, "print one JSON document instead of text");
  app.add_option("--server", g.remote.server, "https://host:port of a ferrohsm-server's REST API: the token, key, "
                                              "info, sign, verify, encrypt and decrypt commands go through it");
  app.add_option("--cert", g.remote.cert, "with --server: the client certificate (PEM)");
  app.add_option("--key", g.remote.key, "with --server: the client certificate's private key (PEM)");
  app.add_option("--ca", g.remote.ca, "with --server: the CA certificate(s) that signed the server's (PEM)");
  Commands cmds;
  register_info_command(app, cmds);
  register_token_commands(app, cmds);
  register_pin_commands(app, cmds);
  register_key_commands(app, cmds);
  register_crypto_commands(app, cmds);
  register_import_p12_command(app);
  register_tls_commands(app);
  register_server_commands(app);
  register_policy_commands(app);
  register_audit_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    if (code == 0 || dynamic_cast<const CLI::RuntimeError*>(&e) != nullptr) return code;
    return kExitUsage;
  }
  const Handler* handler = cmds.selected(app, !g.remote.server.empty());
  if (handler == nullptr) return kExitOk;  // a command that ran inside parsing (import-p12)
  Output out(g.json, std::cout, std::cerr);
  Context ctx(g, out);
  if (ferrohsm::Status s = ctx.open(); !s) return out.fail(s.error());
  if (ferrohsm::Status s = (*handler)(ctx); !s) return out.fail(s.error());
  return out.finish();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ferrohsm: internal error: " << e.what() << "\n";
    return ferrohsm::cli::kExitInternal;
  }
}
