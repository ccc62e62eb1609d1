// The pkcs11 provider against SoftHSMv2: the contract suite, plus its own rules
// (labels, key attributes, mechanism check, retire keeps the public half).
#include <ferrohsm/client/module.h>
#include <ferrohsm/client/session.h>

#include <atomic>
#include <cstring>

#include "ferrohsm/signer/ed25519.h"
#include "ferrohsm/signer/pkcs11_provider.h"
#include "ferrohsm/signer/provider_registry.h"
#include "support/provider_contract.h"
#include "support/softhsm_token.h"

namespace ferrohsm::signer::testing {
namespace {

const Context kCtx = Context::background();
std::atomic<int> label_counter{0};

Pkcs11Settings settings_for(const std::string& label) {
  const auto& token = softhsm_token();
  Pkcs11Settings s;
  s.module = token.module_path;
  s.slot = token.slot;
  s.pin_file = token.pin_file;
  s.label = label;
  return s;
}

ProviderFactory softhsm_factory() {
  ProviderFactory f;
  f.name = "pkcs11_softhsm";
  // Loads a known Ed25519 key (an RFC 8032 vector) onto the token under the provider's label layout.
  f.import_key = [](KeyProvider& p, const Scope& scope, const KeyId& key_id,
                    std::span<const std::uint8_t, 32> seed) -> std::optional<GeneratedKey> {
    const auto& token = softhsm_token();
    auto session = token.module->open_session(token.slot, true);
    if (!session || !session->login(CKU_USER, client::Secret("4321"))) return std::nullopt;
    auto key = ed25519::from_private_seed(seed);
    auto pub = ed25519::public_of(*key);
    std::string handle = static_cast<Pkcs11Provider&>(p).handle_for(scope, key_id);
    std::string label = handle.substr(Pkcs11Provider::kHandlePrefix.size());
    CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY, pub_class = CKO_PUBLIC_KEY;
    CK_KEY_TYPE type = CKK_EC_EDWARDS;
    CK_BBOOL yes = CK_TRUE;
    CK_BYTE params[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
    std::vector<std::uint8_t> point = {0x04, 0x20};
    point.insert(point.end(), pub->begin(), pub->end());
    std::vector<std::uint8_t> value(seed.begin(), seed.end());
    CK_ATTRIBUTE priv_t[] = {{CKA_CLASS, &priv_class, sizeof priv_class}, {CKA_KEY_TYPE, &type, sizeof type},
                             {CKA_TOKEN, &yes, sizeof yes},  {CKA_PRIVATE, &yes, sizeof yes},
                             {CKA_SIGN, &yes, sizeof yes},   {CKA_LABEL, label.data(), label.size()},
                             {CKA_EC_PARAMS, params, sizeof params}, {CKA_VALUE, value.data(), value.size()}};
    CK_ATTRIBUTE pub_t[] = {{CKA_CLASS, &pub_class, sizeof pub_class}, {CKA_KEY_TYPE, &type, sizeof type},
                            {CKA_TOKEN, &yes, sizeof yes},  {CKA_VERIFY, &yes, sizeof yes},
                            {CKA_LABEL, label.data(), label.size()}, {CKA_EC_PARAMS, params, sizeof params},
                            {CKA_EC_POINT, point.data(), point.size()}};
    if (!session->create_object(priv_t) || !session->create_object(pub_t)) return std::nullopt;
    return GeneratedKey{handle, *pub};
  };
  f.make = []() -> std::unique_ptr<KeyProvider> {
    const auto& token = softhsm_token();
    if (!token.error.empty()) return nullptr;
    // A fresh label per test keeps the tests' keys apart on the one token.
    auto p = Pkcs11Provider::open(settings_for("t" + std::to_string(label_counter++)));
    if (!p) {
      ADD_FAILURE() << p.error().message;
      return nullptr;
    }
    return std::move(*p);
  };
  return f;
}

INSTANTIATE_TEST_SUITE_P(SoftHsm, ProviderContract, ::testing::Values(softhsm_factory()), factory_name);

class Pkcs11Provider_ : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!softhsm_token().error.empty()) GTEST_SKIP() << softhsm_token().error;
  }
};

TEST_F(Pkcs11Provider_, LabelsHandlesAndKeyAttributes) {
  auto p = Pkcs11Provider::open(settings_for("acme"));
  ASSERT_TRUE(p) << p.error().message;
  auto gen = (*p)->generate(kCtx, *Scope::parse("payments"), *KeyId::parse("k1"));
  ASSERT_TRUE(gen) << gen.error().message;
  EXPECT_EQ(gen->handle_id, "pkcs11:acme:payments:k1");

  // Look at the token as an operator would: both halves carry <label>:<scope>:<key_id>.
  auto session = softhsm_token().module->open_session(softhsm_token().slot, false);
  ASSERT_TRUE(session);
  ASSERT_TRUE(session->login(CKU_USER, client::Secret("4321")));
  std::string label = "acme:payments:k1";
  CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY;
  CK_ATTRIBUTE templ[] = {{CKA_CLASS, &priv_class, sizeof priv_class}, {CKA_LABEL, label.data(), label.size()}};
  auto found = session->find(templ);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  auto sensitive = session->attribute(found->front(), CKA_SENSITIVE);
  auto extractable = session->attribute(found->front(), CKA_EXTRACTABLE);
  auto key_type = session->attribute(found->front(), CKA_KEY_TYPE);
  ASSERT_TRUE(sensitive && extractable && key_type);
  EXPECT_EQ(sensitive->at(0), CK_TRUE);
  EXPECT_EQ(extractable->at(0), CK_FALSE);
  CK_KEY_TYPE kt = 0;
  std::memcpy(&kt, key_type->data(), sizeof kt);
  EXPECT_EQ(kt, static_cast<CK_KEY_TYPE>(CKK_EC_EDWARDS));
  auto value = session->attribute(found->front(), CKA_VALUE);
  EXPECT_FALSE(value) << "the private value must not be readable";

  // Retire destroys the private half; the public half still verifies.
  ASSERT_TRUE((*p)->retire(kCtx, gen->handle_id));
  auto after = session->find(templ);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
  auto pub = (*p)->public_key(kCtx, gen->handle_id);
  ASSERT_TRUE(pub);
  EXPECT_EQ(*pub, gen->public_key);
  // A handle of another label is not this provider's.
  auto other = (*p)->sign(kCtx, "pkcs11:other:payments:k1", Digest{});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().kind, ErrorKind::kKeyNotFound);
}

TEST_F(Pkcs11Provider_, RefusesAModuleWithoutEdDsa) {
  std::vector<CK_MECHANISM_TYPE> rsa_only = {CKM_RSA_PKCS, CKM_SHA256_RSA_PKCS};
  EXPECT_NE(Pkcs11Provider::mechanism_problem(rsa_only).find("CKM_EDDSA"), std::string::npos);
  std::vector<CK_MECHANISM_TYPE> ok = {CKM_EDDSA, CKM_EC_EDWARDS_KEY_PAIR_GEN};
  EXPECT_EQ(Pkcs11Provider::mechanism_problem(ok), "");
}

TEST_F(Pkcs11Provider_, WiringErrorsAreClear) {
  auto s = settings_for("acme");
  s.pin_file.clear();
  auto no_pin = Pkcs11Provider::open(s);
  ASSERT_FALSE(no_pin);
  EXPECT_NE(no_pin.error().message.find("--pkcs11-pin-file"), std::string::npos);
  s = settings_for("acme");
  s.slot.reset();
  auto no_slot = make_provider("pkcs11", ProviderSettings{"", s});
  ASSERT_FALSE(no_slot);
  EXPECT_NE(no_slot.error().message.find("--pkcs11-slot"), std::string::npos);
  s = settings_for("acme");
  s.module = "/nonexistent/libnothing.so";
  auto no_module = Pkcs11Provider::open(s);
  ASSERT_FALSE(no_module);
  s = settings_for("acme");
  s.pin = "0000";
  s.pin_file.clear();
  auto wrong_pin = Pkcs11Provider::open(s);
  ASSERT_FALSE(wrong_pin);
  EXPECT_EQ(wrong_pin.error().message.find("0000"), std::string::npos);  // never echo the PIN
}

}  // namespace
}  // namespace ferrohsm::signer::testing
