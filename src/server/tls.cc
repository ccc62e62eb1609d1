#include "server/tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

namespace ferrohsm::server {
namespace {

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

Error tls_error(const std::string& what) { return make_error(CKR_GENERAL_ERROR, "TLS: " + what + ": " + openssl_error()); }

std::string name_text(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n > 0 ? n : 0));
  BIO_free(bio);
  return out;
}

int note_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// OpenSSL's verify callback: keeps OpenSSL's verdict, and on a failure notes which
// certificate failed and why.
int verify_callback(int preverify_ok, X509_STORE_CTX* ctx) {
  if (preverify_ok) return 1;
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* note = ssl ? static_cast<std::string*>(SSL_get_ex_data(ssl, note_index())) : nullptr;
  if (note != nullptr && note->empty()) {
    X509* cert = X509_STORE_CTX_get_current_cert(ctx);
    std::string subject = cert ? name_text(X509_get_subject_name(cert)) : std::string("(no certificate)");
    *note = "client certificate " + (subject.empty() ? std::string("(empty subject)") : subject) + ": " +
            X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  }
  return 0;
}

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> make_server_tls(const std::string& cert, const std::string& key,
                                                           const std::string& client_ca) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  FH_TRY(configure_server_tls(ctx->native_handle(), cert, key, client_ca));
  return ctx;
}

Status configure_server_tls(SSL_CTX* c, const std::string& cert, const std::string& key, const std::string& client_ca) {
  (void)note_index();
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) != 1 || SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1)
    return tls_error("cannot restrict the server to TLS 1.3");
  if (SSL_CTX_use_certificate_chain_file(c, cert.c_str()) != 1) return tls_error("server certificate " + cert);
  if (SSL_CTX_use_PrivateKey_file(c, key.c_str(), SSL_FILETYPE_PEM) != 1) return tls_error("server key " + key);
  if (SSL_CTX_check_private_key(c) != 1) return tls_error("server key " + key + " does not match " + cert);
  if (SSL_CTX_load_verify_locations(c, client_ca.c_str(), nullptr) != 1) return tls_error("client CA " + client_ca);
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(client_ca.c_str());
  if (names == nullptr) return tls_error("client CA " + client_ca + " holds no certificate");
  SSL_CTX_set_client_CA_list(c, names);
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_callback);
  // No session tickets: every connection presents and verifies its certificate, and a
  // client that never resumes would only carry them around.
  SSL_CTX_set_num_tickets(c, 0);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  return {};
}

void attach_verify_note(SSL* ssl, std::string* note) { SSL_set_ex_data(ssl, note_index(), note); }

bool fill_cert_identity(SSL* ssl, Peer& peer) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return false;
  peer.cert_subject = name_text(X509_get_subject_name(cert));
  peer.cert_sans.clear();
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
    auto text = [](const ASN1_STRING* s) {
      return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s)));
    };
    switch (g->type) {
      case GEN_URI:
        peer.cert_sans.push_back("URI:" + text(g->d.uniformResourceIdentifier));
        break;
      case GEN_DNS:
        peer.cert_sans.push_back("DNS:" + text(g->d.dNSName));
        break;
      case GEN_EMAIL:
        peer.cert_sans.push_back("EMAIL:" + text(g->d.rfc822Name));
        break;
      case GEN_IPADD: {
        const ASN1_OCTET_STRING* ip = g->d.iPAddress;
        char buf[INET6_ADDRSTRLEN] = {};
        int len = ASN1_STRING_length(ip);
        int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
        if (family != 0 && inet_ntop(family, ASN1_STRING_get0_data(ip), buf, sizeof buf) != nullptr)
          peer.cert_sans.push_back(std::string("IP:") + buf);
        break;
      }
      default:
        break;
    }
  }
  GENERAL_NAMES_free(sans);
  if (!peer.cert_subject.empty()) {
    peer.identity = "cert:" + peer.cert_subject;
  } else if (!peer.cert_sans.empty()) {
    peer.identity = "cert:" + peer.cert_sans.front();
  } else {
    peer.identity = "cert:(anonymous)";
  }
  return true;
}

}  // namespace ferrohsm::server
