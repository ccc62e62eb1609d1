// The command groups; each registers its subcommands and their handlers.
#pragma once

#include "context.h"

namespace CLI {
class App;
}

namespace ferrohsm::cli {

void register_info_command(CLI::App& app, Commands& cmds);
void register_token_commands(CLI::App& app, Commands& cmds);
void register_pin_commands(CLI::App& app, Commands& cmds);
void register_key_commands(CLI::App& app, Commands& cmds);
// `sign`, `verify`, `encrypt`, `decrypt` with a key on the token (embedded or --server).
void register_crypto_commands(CLI::App& app, Commands& cmds);
// Works on any PKCS#11 library through the client layer, not on the embedded store.
void register_import_p12_command(CLI::App& app);
// Need no store either: development TLS material, and a running ferrohsm-server's status.
void register_tls_commands(CLI::App& app);
void register_server_commands(CLI::App& app);
// `policy check FILE`: the [[policy]] rules of a configuration file, with line numbers.
void register_policy_commands(CLI::App& app);
// `audit verify` and `audit show`: read audit files, no store.
void register_audit_commands(CLI::App& app);

}  // namespace ferrohsm::cli
