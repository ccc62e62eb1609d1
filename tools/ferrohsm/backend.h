// The HSM the token, key and crypto commands work on, behind one interface: the store
// itself through core::App (embedded_backend.cc) or a ferrohsm-server's REST API
// (`--server https://…`, rest_backend.cc). Each command is written once over it, so the
// two modes print the same lines and the same JSON.
#pragma once

#include "base/pkcs11_uri.h"
#include "keygen.h"
#include "options.h"
#include "token_select.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ferrohsm::cli {

// One object as `key list` shows it.
struct KeyEntry {
  CK_OBJECT_CLASS cls = CKO_DATA;
  std::string label;
  // How the commands name it: the CKA_ID in hex (embedded) or the REST key id.
  std::string id;
  std::optional<CK_KEY_TYPE> key_type;
  CK_ULONG bits = 0;  // 0: not known
  // Where it lives: its PKCS#11 URI (embedded) or its REST URL.
  std::string uri;
  CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;  // embedded only
};

// Which objects a command means: --label, --id, --type and the URI's object/id/type.
struct KeySelector {
  std::string label;
  std::string id;
  std::optional<CK_OBJECT_CLASS> cls;
  std::optional<Pkcs11Uri> uri;
  bool empty() const { return label.empty() && id.empty() && !(uri && (uri->object || uri->id)); }
};

// A mechanism named as in PKCS#11 and the REST API ("ECDSA_SHA256", "AES_GCM"), with the
// IV (and GCM's AAD) where it takes one. Encrypting with an empty IV lets the HSM choose.
struct CryptoMech {
  CK_MECHANISM_TYPE type = 0;
  Bytes iv;
  Bytes aad;
};

// The IV length of a mechanism that carries one in front of its ciphertext (0: none).
size_t iv_length(CK_MECHANISM_TYPE m);

// What the key commands do on one token, logged in as its user; logs out when destroyed.
class KeyService {
 public:
  virtual ~KeyService() = default;
  virtual const TokenRef& token() const = 0;
  // The objects matching `sel` (all objects when it is empty).
  virtual Result<std::vector<KeyEntry>> list(const KeySelector& sel) = 0;
  // The objects made: a pair's halves, or the secret key.
  virtual Result<std::vector<KeyEntry>> generate(const KeySpec& spec, const std::string& label,
                                                 const std::string& id_hex) = 0;
  virtual Status remove(const KeyEntry& e) = 0;
  // The SubjectPublicKeyInfo (DER) of the one key `sel` names.
  virtual Result<Bytes> public_key(const KeySelector& sel) = 0;
  virtual Result<Bytes> sign(const KeySelector& sel, const CryptoMech& m, ByteView data) = 0;
  // false: the signature does not match (any other failure is an error).
  virtual Result<bool> verify(const KeySelector& sel, const CryptoMech& m, ByteView data, ByteView sig) = 0;
  // Fills m.iv when it was empty and the mechanism takes one.
  virtual Result<Bytes> encrypt(const KeySelector& sel, CryptoMech& m, ByteView plaintext) = 0;
  virtual Result<Bytes> decrypt(const KeySelector& sel, const CryptoMech& m, ByteView ciphertext) = 0;
};

struct ObjectCounts {
  size_t all = 0;
  size_t visible = 0;  // without a login
};

class Backend {
 public:
  virtual ~Backend() = default;
  bool remote() const { return remote_; }
  // For `info`: the configuration file and where the tokens are.
  virtual std::string config_source() const = 0;
  virtual std::string store() const = 0;
  // Every slot (embedded: the initialised tokens and the free slot).
  virtual Result<std::vector<TokenRef>> tokens() = 0;
  // nullopt where the backend cannot count (REST).
  virtual Result<std::optional<ObjectCounts>> object_counts(const TokenRef& t) = 0;
  // Picks the token, obtains the user PIN (file, environment or prompt) and logs in.
  // `what` prefixes errors.
  virtual Result<std::unique_ptr<KeyService>> login(const TokenOptions& tok, const PinFiles& pins, bool rw,
                                                    const std::string& what) = 0;

 protected:
  explicit Backend(bool remote) : remote_(remote) {}

 private:
  bool remote_;
};

}  // namespace ferrohsm::cli
