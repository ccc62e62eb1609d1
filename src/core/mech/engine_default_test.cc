// B2: FerroHSM inside a process that set an OpenSSL ENGINE as default for the RSA / EC /
// Ed25519 / X25519 pkey methods, as `openssl pkeyutl -engine pkcs11` does with libp11's
// engine. The engine here is built in the test, like libp11's: copies of OpenSSL's own
// legacy EVP_PKEY_METHODs, registered with ENGINE_set_default(ENGINE_METHOD_PKEY_METHS).
// Keys FerroHSM builds (import, generation, ECDH peers) must still be provider-native,
// and signing, decryption and derivation must work.
#define OPENSSL_SUPPRESS_DEPRECATED  // ENGINE_* and EVP_PKEY_meth_* are what the host uses
#include "core/mech/kat_util.h"

#include <openssl/engine.h>
#include <openssl/evp.h>

namespace ferrohsm::mech::test {
namespace {

constexpr int kNids[] = {EVP_PKEY_RSA, EVP_PKEY_EC, EVP_PKEY_ED25519, EVP_PKEY_X25519};
EVP_PKEY_METHOD* g_meths[std::size(kNids)] = {};

int pkey_meths(ENGINE*, EVP_PKEY_METHOD** meth, const int** nids, int nid) {
  if (meth == nullptr) {
    *nids = kNids;
    return static_cast<int>(std::size(kNids));
  }
  for (size_t i = 0; i < std::size(kNids); ++i)
    if (kNids[i] == nid) {
      *meth = g_meths[i];
      return 1;
    }
  *meth = nullptr;
  return 0;
}

class EngineDefault : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (size_t i = 0; i < std::size(kNids); ++i) {
      const EVP_PKEY_METHOD* orig = EVP_PKEY_meth_find(kNids[i]);
      ASSERT_NE(orig, nullptr);
      int flags = 0;
      EVP_PKEY_meth_get0_info(nullptr, &flags, orig);
      g_meths[i] = EVP_PKEY_meth_new(kNids[i], flags);
      ASSERT_NE(g_meths[i], nullptr);
      EVP_PKEY_meth_copy(g_meths[i], orig);
    }
    engine_ = ENGINE_new();
    ASSERT_EQ(ENGINE_set_id(engine_, "ferrohsm-test-pkey"), 1);
    ASSERT_EQ(ENGINE_set_name(engine_, "FerroHSM test: default pkey methods"), 1);
    ASSERT_EQ(ENGINE_set_pkey_meths(engine_, pkey_meths), 1);
    ASSERT_EQ(ENGINE_set_default(engine_, ENGINE_METHOD_PKEY_METHS), 1);
    for (int nid : kNids) {
      ENGINE* e = ENGINE_get_pkey_meth_engine(nid);
      EXPECT_EQ(e, engine_) << "the test engine is not the default for NID " << nid;
      ENGINE_finish(e);
    }
  }
  static void TearDownTestSuite() {
    ENGINE_unregister_pkey_meths(engine_);
    ENGINE_free(engine_);  // frees the methods pkey_meths() hands out, as OpenSSL's engines expect
    engine_ = nullptr;
    for (EVP_PKEY_METHOD*& m : g_meths) m = nullptr;
  }
  static ENGINE* engine_;
};
ENGINE* EngineDefault::engine_ = nullptr;

bool provider_native(const KeyPtr& k) { return k && k->pkey != nullptr && EVP_PKEY_get0_provider(k->pkey) != nullptr; }

const Bytes kEngineMsg = to_bytes(text("signed while an ENGINE is the default"));

TEST_F(EngineDefault, RsaKeysAreProviderNativeAndWork) {
  Pair k = pair_from(generate_pair(CKM_RSA_PKCS_KEY_PAIR_GEN, attrs({{CKA_MODULUS_BITS, ulong_bytes(2048)}})));
  ASSERT_TRUE(k.pub && k.priv);
  EXPECT_TRUE(provider_native(k.pub));
  EXPECT_TRUE(provider_native(k.priv));

  auto sig = sign(mech(CKM_SHA256_RSA_PKCS), k.priv, kEngineMsg);
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_TRUE(verify(mech(CKM_SHA256_RSA_PKCS), k.pub, kEngineMsg, *sig).ok());
  CK_RSA_PKCS_PSS_PARAMS pss{CKM_SHA256, CKG_MGF1_SHA256, 32};
  auto psig = sign(mech(CKM_SHA256_RSA_PKCS_PSS, pss), k.priv, kEngineMsg);
  ASSERT_TRUE(psig.ok()) << psig.error().message;
  EXPECT_TRUE(verify(mech(CKM_SHA256_RSA_PKCS_PSS, pss), k.pub, kEngineMsg, *psig).ok());

  CK_RSA_PKCS_OAEP_PARAMS oaep{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 0};
  auto ct = run_cipher(true, mech(CKM_RSA_PKCS_OAEP, oaep), k.pub, text("secret"));
  ASSERT_TRUE(ct.ok()) << ct.error().message;
  auto pt = run_cipher(false, mech(CKM_RSA_PKCS_OAEP, oaep), k.priv, *ct);
  ASSERT_TRUE(pt.ok()) << pt.error().message;
  EXPECT_EQ(*pt, to_bytes(text("secret")));
}

TEST_F(EngineDefault, EcKeysAreProviderNativeAndWork) {
  Pair a = pair_from(generate_pair(CKM_EC_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, hex(kP256)}})));
  Pair b = pair_from(generate_pair(CKM_EC_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, hex(kP256)}})));
  ASSERT_TRUE(a.pub && a.priv && b.pub && b.priv);
  EXPECT_TRUE(provider_native(a.pub));
  EXPECT_TRUE(provider_native(a.priv));

  auto sig = sign(mech(CKM_ECDSA_SHA256), a.priv, kEngineMsg);
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_TRUE(verify(mech(CKM_ECDSA_SHA256), a.pub, kEngineMsg, *sig).ok());

  auto a_pub = public_attributes_of(*a.priv);
  auto b_pub = public_attributes_of(*b.priv);
  ASSERT_TRUE(a_pub.ok() && b_pub.ok());
  Bytes pa = to_bytes(a_pub->view(CKA_EC_POINT)), pb = to_bytes(b_pub->view(CKA_EC_POINT));
  CK_ECDH1_DERIVE_PARAMS to_b{CKD_NULL, 0, nullptr, pb.size(), pb.data()};
  CK_ECDH1_DERIVE_PARAMS to_a{CKD_NULL, 0, nullptr, pa.size(), pa.data()};
  auto z1 = run_derive(mech(CKM_ECDH1_DERIVE, to_b), a.priv, 0);
  auto z2 = run_derive(mech(CKM_ECDH1_DERIVE, to_a), b.priv, 0);
  ASSERT_TRUE(z1.ok()) << z1.error().message;
  ASSERT_TRUE(z2.ok()) << z2.error().message;
  EXPECT_EQ(*z1, *z2);
}

TEST_F(EngineDefault, EdwardsAndMontgomeryKeysAreProviderNativeAndWork) {
  Pair ed = pair_from(generate_pair(CKM_EC_EDWARDS_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, hex(kEd25519)}})));
  ASSERT_TRUE(ed.pub && ed.priv);
  EXPECT_TRUE(provider_native(ed.pub));
  EXPECT_TRUE(provider_native(ed.priv));
  auto sig = sign(mech(CKM_EDDSA), ed.priv, kEngineMsg);
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_TRUE(verify(mech(CKM_EDDSA), ed.pub, kEngineMsg, *sig).ok());

  // RFC 7748 6.1 through the engine-registered X25519 type.
  KeyPtr alice = raw_private(CKK_EC_MONTGOMERY, "06032b656e",
                             hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  ASSERT_TRUE(alice);
  EXPECT_TRUE(provider_native(alice));
  Bytes bob = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  CK_ECDH1_DERIVE_PARAMS p{CKD_NULL, 0, nullptr, bob.size(), bob.data()};
  auto z = run_derive(mech(CKM_ECDH1_DERIVE, p), alice, 0);
  ASSERT_TRUE(z.ok()) << z.error().message;
  EXPECT_EQ(to_hex(*z), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}

// The rest of B2: the context EVP_PKEY_CTX_new_from_pkey makes is the engine's legacy
// one, and a legacy context drops the OSSL_PARAMs of EVP_PKEY_*_init_ex (and of
// EVP_PKEY_CTX_set_params), so rsa.cc and rsa_cipher.cc set PSS / OAEP parameters with the
// EVP_PKEY_CTX_set_rsa_* calls; otherwise PSS would sign as PKCS#1 v1.5 and OAEP as v1.5.
// Round trips through FerroHSM alone stay consistent, hence the cross-mechanism checks.
TEST_F(EngineDefault, RsaPssAndOaepParametersReachTheOperation) {
  Pair k = pair_from(generate_pair(CKM_RSA_PKCS_KEY_PAIR_GEN, attrs({{CKA_MODULUS_BITS, ulong_bytes(2048)}})));
  ASSERT_TRUE(k.pub && k.priv);
  CK_RSA_PKCS_PSS_PARAMS pss{CKM_SHA256, CKG_MGF1_SHA256, 32};
  auto s1 = sign(mech(CKM_SHA256_RSA_PKCS_PSS, pss), k.priv, kEngineMsg);
  auto s2 = sign(mech(CKM_SHA256_RSA_PKCS_PSS, pss), k.priv, kEngineMsg);
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_NE(*s1, *s2) << "PSS with a 32-byte salt is randomized";
  EXPECT_EQ(verify(mech(CKM_SHA256_RSA_PKCS), k.pub, kEngineMsg, *s1).rv(), CKR_SIGNATURE_INVALID);

  CK_RSA_PKCS_OAEP_PARAMS oaep{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 0};
  auto ct = run_cipher(true, mech(CKM_RSA_PKCS_OAEP, oaep), k.pub, text("secret"));
  ASSERT_TRUE(ct.ok()) << ct.error().message;
  EXPECT_FALSE(run_cipher(false, mech(CKM_RSA_PKCS), k.priv, *ct).ok()) << "an OAEP block is not a PKCS#1 v1.5 one";
}

}  // namespace
}  // namespace ferrohsm::mech::test
