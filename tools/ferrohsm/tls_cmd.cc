// `ferrohsm tls init DIR`: development certificates for trying ferrohsm-server over
// TCP with mutual TLS in minutes — a CA, a server certificate for localhost,
// 127.0.0.1 and ::1, and a client certificate CN=ferrohsm-dev-client (keys 0600).
// Not for production: the CA's key is thrown away and nothing is protected by a
// passphrase. Needs no store, so it runs inside parsing like import-p12.
#include "commands.h"
#include "exit_codes.h"
#include "output.h"
#include "server/dev_pki.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

namespace ferrohsm::cli {

void register_tls_commands(CLI::App& app) {
  CLI::App* tls = app.add_subcommand("tls", "TLS material for ferrohsm-server");
  tls->require_subcommand(1);
  auto dir = std::make_shared<std::string>();
  CLI::App* init = tls->add_subcommand(
      "init", "Write a development CA, a server certificate (localhost) and a client certificate into DIR");
  init->add_option("DIR", *dir, "folder for ca.pem, server.pem, server.key, client.pem, client.key")->required();
  init->callback([dir, &app] {
    Output out(app.get_option("--json")->count() > 0, std::cout, std::cerr);
    auto files = server::make_dev_pki(*dir);
    if (!files) throw CLI::RuntimeError(out.fail(context("tls init", files.error())));
    out.doc()["ca"] = files->ca;
    out.doc()["server_cert"] = files->server_cert;
    out.doc()["server_key"] = files->server_key;
    out.doc()["client_cert"] = files->client_cert;
    out.doc()["client_key"] = files->client_key;
    out.doc()["client_identity"] = "cert:CN=ferrohsm-dev-client";
    out.doc()["development_only"] = true;
    out.line("wrote " + files->ca + "          the development CA (its key is not kept)");
    out.line("wrote " + files->server_cert + ", " + files->server_key +
             " (0600)   server: localhost, 127.0.0.1, ::1");
    out.line("wrote " + files->client_cert + ", " + files->client_key + " (0600)   client: CN=ferrohsm-dev-client");
    out.line("");
    out.line("These certificates are for development only: do not use them in production.");
    out.line("server.toml:   tls_cert = \"" + files->server_cert + "\", tls_key = \"" + files->server_key +
             "\", client_ca = \"" + files->ca + "\"");
    out.line("               [[access]] peer = \"cert:CN=ferrohsm-dev-client\"");
    out.line("ferrohsm.toml: [sidecar] cert = \"" + files->client_cert + "\", key = \"" + files->client_key +
             "\", ca = \"" + files->ca + "\"");
    int code = out.finish();
    if (code != kExitOk) throw CLI::RuntimeError(code);
  });
}

}  // namespace ferrohsm::cli
