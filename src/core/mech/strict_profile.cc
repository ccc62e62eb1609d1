// The strict profile ([hardening] profile = "strict", docs/HARDENING.md): the
// approved subset of the registry after NIST SP 800-131A rev 2 (transitions), FIPS
// 186-5 (signatures), SP 800-186 (curves), SP 800-38F (key wrapping) and SP 800-57
// (strengths). One table says what each mechanism keeps; everything the table does not
// name is kept as it is.
#include "core/hardening.h"

#include "core/mech/curves.h"

#include <algorithm>
#include <string_view>

namespace ferrohsm::mech {
namespace {

enum class Strict {
  Drop,            // not approved at all
  VerifyOnly,      // SHA-1 signatures: verification of old ones only (legacy use)
  DecryptOnly,     // 3DES: decryption of old data only (SP 800-131A r2 §2: legacy use after 2023)
  NoEncryption,    // RSA PKCS#1 v1.5: signatures yes, key transport / encryption no (§6)
};

struct StrictRule {
  CK_MECHANISM_TYPE type;
  Strict what;
};

constexpr StrictRule kStrictRules[] = {
    // Single DES and 2-key 3DES (56 and 80 bits), new 3DES keys.
    {CKM_DES_KEY_GEN, Strict::Drop},
    {CKM_DES_ECB, Strict::Drop},
    {CKM_DES_CBC, Strict::Drop},
    {CKM_DES_CBC_PAD, Strict::Drop},
    {CKM_DES2_KEY_GEN, Strict::Drop},
    {CKM_DES3_KEY_GEN, Strict::Drop},
    {CKM_DES3_ECB, Strict::DecryptOnly},
    {CKM_DES3_CBC, Strict::DecryptOnly},
    {CKM_DES3_CBC_PAD, Strict::DecryptOnly},
    // SHA-1 signatures (digests and HMAC with SHA-1 stay: SP 800-131A r2 §9, §10).
    {CKM_SHA1_RSA_PKCS, Strict::VerifyOnly},
    {CKM_SHA1_RSA_PKCS_PSS, Strict::VerifyOnly},
    {CKM_ECDSA_SHA1, Strict::VerifyOnly},
    // Raw RSA and PKCS#1 v1.5 encryption.
    {CKM_RSA_X_509, Strict::Drop},
    {CKM_RSA_PKCS, Strict::NoEncryption},
    // Not approved: ChaCha20-Poly1305, X25519/X448 (SP 800-56A r3 names neither), CBC-MAC,
    // and key derivations that are no SP 800-108 / 56C KDF.
    {CKM_CHACHA20_KEY_GEN, Strict::Drop},
    {CKM_CHACHA20_POLY1305, Strict::Drop},
    {CKM_EC_MONTGOMERY_KEY_PAIR_GEN, Strict::Drop},
    {CKM_AES_MAC, Strict::Drop},
    {CKM_AES_MAC_GENERAL, Strict::Drop},
    {CKM_CONCATENATE_BASE_AND_KEY, Strict::Drop},
    {CKM_AES_ECB_ENCRYPT_DATA, Strict::Drop},
    {CKM_AES_CBC_ENCRYPT_DATA, Strict::Drop},
    // AES key wrap over PKCS#7 padding is no SP 800-38F mode (KWP is).
    {CKM_AES_KEY_WRAP_PAD, Strict::Drop},
};

// The only mechanisms that wrap: authenticated ones (SP 800-38F KW and KWP, GCM) and
// RSA-OAEP.
constexpr CK_MECHANISM_TYPE kStrictWrapping[] = {CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_KWP, CKM_AES_GCM,
                                                 CKM_RSA_PKCS_OAEP};

bool takes(const Entry& e, CK_KEY_TYPE kt) { return std::ranges::find(e.key_types, kt) != e.key_types.end(); }

// Applies the table to one entry; false when the entry is dropped.
bool restrict_entry(Entry& e) {
  if (e.legacy) return false;  // MD5 in every form
  for (const StrictRule& r : kStrictRules) {
    if (r.type != e.type) continue;
    switch (r.what) {
      case Strict::Drop: return false;
      case Strict::VerifyOnly:
        e.sign = nullptr;
        e.info.flags &= ~(CKF_SIGN | CKF_MESSAGE_SIGN);
        break;
      case Strict::DecryptOnly:
        e.encrypt = nullptr;
        e.info.flags &= ~CKF_ENCRYPT;
        break;
      case Strict::NoEncryption:
        e.encrypt = nullptr;
        e.decrypt = nullptr;
        e.info.flags &= ~(CKF_ENCRYPT | CKF_DECRYPT);
        break;
    }
  }
  if (std::ranges::find(kStrictWrapping, e.type) == std::end(kStrictWrapping)) e.info.flags &= ~(CKF_WRAP | CKF_UNWRAP);
  if (takes(e, CKK_RSA)) e.info.ulMinKeySize = std::max<CK_ULONG>(e.info.ulMinKeySize, kStrictRsaMinBits);
  // HMAC keys of at least 112 bits (SP 800-131A r2 §10; secret key sizes count bytes).
  if ((e.info.flags & CKF_SIGN) && takes(e, CKK_GENERIC_SECRET))
    e.info.ulMinKeySize = std::max<CK_ULONG>(e.info.ulMinKeySize, 14);
  return true;
}

}  // namespace

const Registry& strict_registry() {
  static const Registry r = [] {
    Registry reg;
    for (Entry e : Registry::global().entries())
      if (restrict_entry(e)) reg.add(std::move(e));
    return reg;
  }();
  return r;
}

bool strict_curve(ByteView ec_params) {
  auto c = curve_from_params(ec_params);
  if (!c.ok()) return false;
  static constexpr std::string_view kApproved[] = {"prime256v1", "secp384r1", "secp521r1", "ED25519", "ED448"};
  return std::ranges::find(kApproved, std::string_view((*c)->ossl_name)) != std::end(kApproved);
}

}  // namespace ferrohsm::mech
