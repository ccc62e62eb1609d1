// Triple DES for legacy systems: CKM_DES3_ECB, CKM_DES3_CBC, CKM_DES3_CBC_PAD (each
// also a key wrap; ECB and CBC zero-pad the key, mech/wrap_padding.h) with
// CKK_DES3 (three keys, 24 bytes) or CKK_DES2 (two keys, 16 bytes) keys, and
// CKM_DES3_KEY_GEN / CKM_DES2_KEY_GEN (odd parity set). Single DES (CKM_DES_ECB,
// _CBC, _CBC_PAD, CKM_DES_KEY_GEN, CKK_DES) lives only in OpenSSL's legacy provider:
// it is loaded into a private library context, and the entries are registered only
// when that load and a fetch of DES-ECB succeed when the registry is built.
#include "core/mech/cipher_ops.h"
#include "core/mech/key_internal.h"
#include "core/mech/registry.h"

#include <openssl/provider.h>
#include <openssl/rand.h>

#include <array>

namespace ferrohsm::mech {
namespace {

constexpr size_t kDesBlock = 8;

struct DesCiphers {
  OSSL_LIB_CTX* legacy_ctx = nullptr;
  // [0: ECB, 1: CBC] × [0: DES-EDE3, 1: DES-EDE (two keys), 2: single DES]
  std::array<std::array<EVP_CIPHER*, 3>, 2> c{};
  DesCiphers() {
    static constexpr const char* kNames[2][2] = {{"DES-EDE3-ECB", "DES-EDE-ECB"}, {"DES-EDE3-CBC", "DES-EDE-CBC"}};
    for (size_t m = 0; m < 2; ++m)
      for (size_t k = 0; k < 2; ++k) c[m][k] = EVP_CIPHER_fetch(nullptr, kNames[m][k], nullptr);
    legacy_ctx = OSSL_LIB_CTX_new();
    if (legacy_ctx != nullptr && OSSL_PROVIDER_load(legacy_ctx, "legacy") != nullptr &&
        OSSL_PROVIDER_load(legacy_ctx, "default") != nullptr) {
      c[0][2] = EVP_CIPHER_fetch(legacy_ctx, "DES-ECB", nullptr);
      c[1][2] = EVP_CIPHER_fetch(legacy_ctx, "DES-CBC", nullptr);
    }
    ossl_clear_errors();
  }
  // Process-lifetime: the ciphers (and the legacy context) are never freed, so that
  // no operation can outlive them during exit.
};

const DesCiphers& ciphers() {
  static const DesCiphers* const c = new DesCiphers();
  return *c;
}

struct DesMech {
  CK_MECHANISM_TYPE type;
  bool cbc;
  bool pad;
  bool single;  // single DES
};

constexpr DesMech kDesMechs[] = {
    {CKM_DES3_ECB, false, false, false}, {CKM_DES3_CBC, true, false, false}, {CKM_DES3_CBC_PAD, true, true, false},
    {CKM_DES_ECB, false, false, true},   {CKM_DES_CBC, true, false, true},   {CKM_DES_CBC_PAD, true, true, true},
};

template <bool Encrypt>
Result<std::unique_ptr<CipherOp>> make_des(const CK_MECHANISM& mech, KeyPtr key) {
  const DesMech* m = nullptr;
  for (const DesMech& d : kDesMechs)
    if (d.type == mech.mechanism) m = &d;
  if (m == nullptr) return make_error(CKR_MECHANISM_INVALID, "not a DES mechanism");
  size_t k = 0;
  if (!key || key->cls != CKO_SECRET_KEY) return make_error(CKR_KEY_TYPE_INCONSISTENT, "the mechanism needs a DES key");
  if (m->single) {
    if (key->key_type != CKK_DES || key->secret.size() != 8) return make_error(CKR_KEY_TYPE_INCONSISTENT, "needs a CKK_DES key");
    k = 2;
  } else if (key->key_type == CKK_DES3 && key->secret.size() == 24) {
    k = 0;
  } else if (key->key_type == CKK_DES2 && key->secret.size() == 16) {
    k = 1;
  } else {
    return make_error(CKR_KEY_TYPE_INCONSISTENT, "the mechanism needs a CKK_DES3 or CKK_DES2 key");
  }
  const uint8_t* iv = nullptr;
  if (m->cbc) {
    if (mech.pParameter == nullptr || mech.ulParameterLen != kDesBlock)
      return make_error(CKR_MECHANISM_PARAM_INVALID, "DES CBC modes need an 8-byte IV parameter");
    iv = static_cast<const uint8_t*>(mech.pParameter);
  } else {
    FH_TRY(no_mech_param(mech));
  }
  FH_ASSIGN_OR_RETURN(CipherCtxPtr ctx, init_cipher_ctx(ciphers().c[m->cbc ? 1 : 0][k], key->secret, iv, Encrypt, m->pad));
  return make_block_cipher_op(std::move(key), std::move(ctx), Encrypt, m->pad, kDesBlock);
}

Result<AttrMap> generate(CK_KEY_TYPE kt, size_t len, const CK_MECHANISM& mech, const AttrMap& tmpl) {
  FH_TRY(no_mech_param(mech));
  if (tmpl.has(CKA_VALUE_LEN) && tmpl.get_ulong(CKA_VALUE_LEN) != CK_ULONG{len})
    return make_error(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_VALUE_LEN does not match the DES key type");
  FH_ASSIGN_OR_RETURN(AttrMap attrs, random_secret_key(kt, len));
  SecureBytes v = *attrs.get(CKA_VALUE);
  for (uint8_t& b : v) {  // odd parity in every byte's low bit
    uint8_t ones = 0;
    for (int i = 1; i < 8; ++i) ones ^= (b >> i) & 1;
    b = static_cast<uint8_t>((b & 0xfe) | (ones ^ 1));
  }
  attrs.set(CKA_VALUE, std::move(v));
  return attrs;
}

Result<AttrMap> gen_des3(const CK_MECHANISM& m, const AttrMap& t) { return generate(CKK_DES3, 24, m, t); }
Result<AttrMap> gen_des2(const CK_MECHANISM& m, const AttrMap& t) { return generate(CKK_DES2, 16, m, t); }
Result<AttrMap> gen_des(const CK_MECHANISM& m, const AttrMap& t) { return generate(CKK_DES, 8, m, t); }

}  // namespace

void register_des(Registry& r) {
  const bool single = ciphers().c[0][2] != nullptr && ciphers().c[1][2] != nullptr;
  for (const DesMech& m : kDesMechs) {
    if (m.single && !single) continue;
    Entry e;
    e.type = m.type;
    // 3DES wraps keys too; single DES is kept for decrypting old data only.
    e.info = m.single ? CK_MECHANISM_INFO{8, 8, CKF_ENCRYPT | CKF_DECRYPT}
                      : CK_MECHANISM_INFO{16, 24, CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP};
    if (!m.single && !m.pad) e.wrap_pad_block = kDesBlock;
    e.key_types = m.single ? std::vector<CK_KEY_TYPE>{CKK_DES} : std::vector<CK_KEY_TYPE>{CKK_DES3, CKK_DES2};
    e.encrypt = make_des<true>;
    e.decrypt = make_des<false>;
    r.add(std::move(e));
  }
  struct Gen {
    CK_MECHANISM_TYPE type;
    CK_KEY_TYPE kt;
    CK_ULONG len;
    KeyGenerator fn;
  };
  for (const Gen& g : {Gen{CKM_DES3_KEY_GEN, CKK_DES3, 24, gen_des3}, Gen{CKM_DES2_KEY_GEN, CKK_DES2, 16, gen_des2},
                       Gen{CKM_DES_KEY_GEN, CKK_DES, 8, gen_des}}) {
    if (g.kt == CKK_DES && !single) continue;
    Entry e;
    e.type = g.type;
    e.info = {g.len, g.len, CKF_GENERATE};
    e.key_types = {g.kt};
    e.generate_key = g.fn;
    r.add(std::move(e));
  }
}

}  // namespace ferrohsm::mech
