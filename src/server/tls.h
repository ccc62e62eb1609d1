// TLS for tcp: endpoints, from OpenSSL through asio::ssl: TLS 1.3 only, the server's
// certificate chain and key, and a client certificate that must be presented and must
// verify against client_ca. The peer's identity comes from that certificate.
#pragma once

#include "base/result.h"
#include "server/peer.h"

#include <asio/ssl.hpp>

#include <memory>
#include <string>

namespace ferrohsm::server {

// Builds a server context from PEM files. The error names the file that failed.
Result<std::shared_ptr<asio::ssl::context>> make_server_tls(const std::string& cert, const std::string& key,
                                                           const std::string& client_ca);
// The same settings on a context made elsewhere (the REST listener's, which
// cpp-httplib makes).
Status configure_server_tls(SSL_CTX* ctx, const std::string& cert, const std::string& key, const std::string& client_ca);

// Where the verify callback leaves why a client certificate failed ("CN=x: certificate
// has expired"), for the refusal log line. Attach before the handshake, read after.
void attach_verify_note(SSL* ssl, std::string* note);

// Fills cert_subject, cert_sans and identity from the verified client certificate.
// False when there is none (the handshake would have failed first).
bool fill_cert_identity(SSL* ssl, Peer& peer);

}  // namespace ferrohsm::server
