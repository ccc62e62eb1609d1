// Who is on the other end of a connection, as the server established it: the Unix
// peer credentials (SO_PEERCRED) of a `unix:` endpoint, or the verified client
// certificate of a `tcp:` endpoint (TLS 1.3, client certificate from the configured
// CA). The identity string is what access rules match and what logs and audit records
// name: "uid:1000" for a Unix peer, "cert:CN=app1" (the subject) for a certificate,
// with the certificate's subject alternative names beside it ("URI:spiffe://…").
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace ferrohsm::server {

struct Peer {
  std::string endpoint;              // the listen address it came in on ("unix:/run/…", "tcp:127.0.0.1:5696")
  std::string address;               // the remote address, for logs ("pid 1234", "127.0.0.1:40312")
  std::optional<uid_t> uid;          // unix: endpoints
  std::optional<gid_t> gid;
  std::vector<gid_t> groups;         // supplementary groups (SO_PEERGROUPS), for gid: rules
  std::optional<pid_t> pid;
  std::string cert_subject;          // tcp: endpoints, RFC 4514 ("CN=app1,O=Example")
  std::vector<std::string> cert_sans;  // "URI:spiffe://…", "DNS:host", "EMAIL:…", "IP:…"
  std::string identity;              // "uid:1000" or "cert:CN=app1"
};

// What an access rule grants a peer: the token labels it may see (glob patterns, "*"
// for all) and whether it may initialise and delete tokens. `rule` names the rule that
// matched, for logs ("access[2] peer=uid:1000").
struct Grant {
  std::vector<std::string> tokens;
  bool admin = false;
  std::string rule;

  // True when a token with this label is visible to the peer.
  bool sees(const std::string& token_label) const;
};

}  // namespace ferrohsm::server
