#include "server/dev_pki.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace ferrohsm::server {
namespace {

Error ossl_error(const std::string& what) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  char buf[256] = "unknown OpenSSL error";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  return make_error(CKR_GENERAL_ERROR, what + ": " + buf);
}

Status add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return ossl_error("certificate extension " + value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return ossl_error("certificate extension " + value);
  return {};
}

std::string join(const std::vector<std::string>& parts, const char* prefix, std::string out) {
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + std::string(prefix) + p;
  return out;
}

// Writes through a descriptor created with `mode`, so a key is never readable by others,
// not even for a moment.
Status write_file(const std::string& path, const std::string& data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return make_error(CKR_GENERAL_ERROR, "cannot write " + path + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0;
  size_t off = 0;
  while (ok && off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += static_cast<size_t>(n);
  }
  ok = (::close(fd) == 0) && ok;
  if (!ok) return make_error(CKR_GENERAL_ERROR, "cannot write " + path + ": " + std::strerror(errno));
  return {};
}

template <typename F>
Result<std::string> to_pem(F&& write) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr || write(bio) != 1) {
    BIO_free(bio);
    return ossl_error("PEM encoding");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

}  // namespace

Result<Issued> issue_certificate(const CertSpec& spec, const Issued* issuer) {
  Issued out;
  out.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
  if (!out.key) return ossl_error("P-256 key generation");
  out.cert.reset(X509_new(), X509_free);
  X509* x = out.cert.get();
  if (!x || X509_set_version(x, X509_VERSION_3) != 1) return ossl_error("X509_new");

  BIGNUM* bn = BN_new();
  bool serial_ok = bn && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
                   BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != nullptr;
  BN_free(bn);
  if (!serial_ok) return ossl_error("certificate serial number");

  X509_NAME* name = X509_get_subject_name(x);
  if (!spec.organization.empty())
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(spec.organization.c_str()), -1, -1, 0);
  if (!spec.common_name.empty())
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0);
  X509* signer_cert = issuer ? issuer->cert.get() : x;
  EVP_PKEY* signer_key = issuer ? issuer->key.get() : out.key.get();
  if (X509_set_issuer_name(x, X509_get_subject_name(signer_cert)) != 1) return ossl_error("issuer name");
  if (!X509_gmtime_adj(X509_getm_notBefore(x), spec.not_before_s) || !X509_gmtime_adj(X509_getm_notAfter(x), spec.not_after_s))
    return ossl_error("validity");
  if (X509_set_pubkey(x, out.key.get()) != 1) return ossl_error("public key");

  FH_TRY(add_ext(x, signer_cert, NID_basic_constraints, spec.ca ? "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE"));
  FH_TRY(add_ext(x, signer_cert, NID_key_usage, spec.ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature"));
  std::string eku;
  if (spec.server) eku = "serverAuth";
  if (spec.client) eku += std::string(eku.empty() ? "" : ",") + "clientAuth";
  if (!eku.empty()) FH_TRY(add_ext(x, signer_cert, NID_ext_key_usage, eku));
  std::string san = join(spec.uris, "URI:", join(spec.ips, "IP:", join(spec.dns, "DNS:", "")));
  if (!san.empty()) FH_TRY(add_ext(x, signer_cert, NID_subject_alt_name, san));
  FH_TRY(add_ext(x, signer_cert, NID_subject_key_identifier, "hash"));
  if (issuer) FH_TRY(add_ext(x, signer_cert, NID_authority_key_identifier, "keyid:always"));

  if (X509_sign(x, signer_key, EVP_sha256()) <= 0) return ossl_error("signing the certificate");
  return out;
}

Status write_certificate(const std::string& path, const X509* cert) {
  FH_ASSIGN_OR_RETURN(std::string pem, to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert); }));
  return write_file(path, pem, 0644);
}

Status write_private_key(const std::string& path, EVP_PKEY* key) {
  FH_ASSIGN_OR_RETURN(std::string pem, to_pem([&](BIO* b) {
                        return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
                      }));
  Status s = write_file(path, pem, 0600);
  OPENSSL_cleanse(pem.data(), pem.size());
  return s;
}

Result<DevPkiFiles> make_dev_pki(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(CKR_GENERAL_ERROR, "cannot create " + dir + ": " + ec.message());
  DevPkiFiles f{(fs::path(dir) / "ca.pem").string(), (fs::path(dir) / "server.pem").string(),
                (fs::path(dir) / "server.key").string(), (fs::path(dir) / "client.pem").string(),
                (fs::path(dir) / "client.key").string()};
  for (const std::string& p : {f.ca, f.server_cert, f.server_key, f.client_cert, f.client_key})
    if (fs::exists(p, ec)) return make_error(CKR_GENERAL_ERROR, p + " exists already; choose an empty folder");

  CertSpec ca{.common_name = "FerroHSM development CA", .organization = "FerroHSM development", .ca = true};
  FH_ASSIGN_OR_RETURN(Issued ca_issued, issue_certificate(ca, nullptr));
  CertSpec server{.common_name = "localhost",
                  .organization = "FerroHSM development",
                  .dns = {"localhost"},
                  .ips = {"127.0.0.1", "::1"},
                  .server = true};
  FH_ASSIGN_OR_RETURN(Issued server_issued, issue_certificate(server, &ca_issued));
  CertSpec client{.common_name = "ferrohsm-dev-client", .organization = "FerroHSM development", .client = true};
  FH_ASSIGN_OR_RETURN(Issued client_issued, issue_certificate(client, &ca_issued));

  FH_TRY(write_certificate(f.ca, ca_issued.cert.get()));
  FH_TRY(write_certificate(f.server_cert, server_issued.cert.get()));
  FH_TRY(write_private_key(f.server_key, server_issued.key.get()));
  FH_TRY(write_certificate(f.client_cert, client_issued.cert.get()));
  FH_TRY(write_private_key(f.client_key, client_issued.key.get()));
  return f;
}

}  // namespace ferrohsm::server
