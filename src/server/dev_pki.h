// Certificates for trying and testing mTLS (`ferrohsm tls init`, the server tests): a
// CA, and certificates it issues, with EC P-256 keys from OpenSSL 3. Not for
// production: a real deployment takes its certificates from its own CA.
#pragma once

#include "base/result.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

namespace ferrohsm::server {

struct CertSpec {
  std::string common_name;
  std::string organization;
  std::vector<std::string> dns;   // subject alternative names
  std::vector<std::string> ips;
  std::vector<std::string> uris;
  bool ca = false;
  bool server = false;  // extendedKeyUsage serverAuth
  bool client = false;  // extendedKeyUsage clientAuth
  long not_before_s = -60;            // from now
  long not_after_s = 825L * 24 * 3600;  // from now; negative: already expired
};

struct Issued {
  std::shared_ptr<EVP_PKEY> key;
  std::shared_ptr<X509> cert;
};

// Makes a key and a certificate; self-signed when `issuer` is null.
Result<Issued> issue_certificate(const CertSpec& spec, const Issued* issuer);

// PEM files: certificates 0644, keys 0600 (created with that mode, never wider).
Status write_certificate(const std::string& path, const X509* cert);
Status write_private_key(const std::string& path, EVP_PKEY* key);

// The files `ferrohsm tls init DIR` writes.
struct DevPkiFiles {
  std::string ca, server_cert, server_key, client_cert, client_key;
};
// A development CA, a server certificate for localhost/127.0.0.1/::1 and a client
// certificate CN=ferrohsm-dev-client in `dir` (created if missing). Refuses to
// overwrite any of the files.
Result<DevPkiFiles> make_dev_pki(const std::string& dir);

}  // namespace ferrohsm::server
