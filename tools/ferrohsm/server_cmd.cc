// `ferrohsm server status --endpoint E [--cert C --key K --ca A]`: what a running
// ferrohsm-server is doing — connections by peer, sessions, logged-in tokens — through
// the server's admin status call (docs/SERVER.md; the peer needs admin = true in its
// [[access]] rule). Talks to the server directly, so it needs no store.
#include "commands.h"
#include "exit_codes.h"
#include "output.h"
#include "sidecar/transport.h"
#include "wire/protocol.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

namespace ferrohsm::cli {
namespace {

struct StatusOptions {
  std::string endpoint;
  std::string cert, key, ca, server_name;
};

Status show_status(const StatusOptions& o, Output& out) {
  sidecar::ConnectOptions co;
  if (!o.cert.empty() || !o.key.empty() || !o.ca.empty())
    co.tls = sidecar::TlsFiles{o.cert, o.key, o.ca, o.server_name};
  FH_ASSIGN_OR_RETURN(std::unique_ptr<sidecar::Connection> conn, sidecar::Connection::connect(o.endpoint, co));
  wire::Call call;
  call.set_function(wire::kServerStatusFunction);
  FH_ASSIGN_OR_RETURN(wire::Return ret, conn->call(call));
  if (ret.rv() != CKR_OK)
    return make_error(static_cast<CK_RV>(ret.rv()),
                      "the server refused: the status is for peers whose [[access]] rule has admin = true (this "
                      "client is " + conn->hello().identity() + ")");
  const wire::ServerStatus& s = ret.server_status();
  nlohmann::json peers = nlohmann::json::array();
  for (const auto& p : s.peers()) peers.push_back({{"identity", p.identity()}, {"connections", p.connections()}});
  out.doc() = {{"software", s.software()},
               {"uptime_ms", s.uptime_ms()},
               {"listen", std::vector<std::string>(s.listen().begin(), s.listen().end())},
               {"connections", s.connections()},
               {"sessions", s.sessions()},
               {"logged_in_tokens", std::vector<std::string>(s.logged_in_tokens().begin(), s.logged_in_tokens().end())},
               {"peers", peers}};
  out.line("server:      " + s.software() + ", up " + std::to_string(s.uptime_ms() / 1000) + " s");
  for (const auto& l : s.listen()) out.line("listening:   " + l);
  out.line("connections: " + std::to_string(s.connections()));
  for (const auto& p : s.peers()) out.line("  " + p.identity() + ": " + std::to_string(p.connections()));
  out.line("sessions:    " + std::to_string(s.sessions()));
  std::string tokens;
  for (const auto& t : s.logged_in_tokens()) tokens += (tokens.empty() ? "" : ", ") + t;
  out.line("logged in:   " + (tokens.empty() ? std::string("(no token)") : tokens));
  return {};
}

}  // namespace

void register_server_commands(CLI::App& app) {
  CLI::App* server = app.add_subcommand("server", "Ask a running ferrohsm-server");
  server->require_subcommand(1);
  auto o = std::make_shared<StatusOptions>();
  CLI::App* status = server->add_subcommand("status", "Connections, sessions and logged-in tokens of a server");
  status->add_option("--endpoint", o->endpoint, "unix:/path or tcp:host:port")->required();
  status->add_option("--cert", o->cert, "client certificate (tcp:)");
  status->add_option("--key", o->key, "its private key (tcp:)");
  status->add_option("--ca", o->ca, "the CA of the server's certificate (tcp:)");
  status->add_option("--server-name", o->server_name, "the name the server's certificate must carry (default: the host)");
  status->callback([o, &app] {
    Output out(app.get_option("--json")->count() > 0, std::cout, std::cerr);
    if (Status s = show_status(*o, out); !s) throw CLI::RuntimeError(out.fail(context("server status", s.error())));
    int code = out.finish();
    if (code != kExitOk) throw CLI::RuntimeError(code);
  });
}

}  // namespace ferrohsm::cli
