// The pkcs11 provider on a real token (SoftHSMv2 or FerroHSM's module, per executable):
// the contract suite, plus its own rules (labels, key attributes, mechanism check,
// retire keeps the public half, wiring errors).
#include <ferrohsm/client/module.h>
#include <ferrohsm/client/session.h>

#include <atomic>
#include <cstring>

#include "ferrohsm/signer/ed25519.h"
#include "ferrohsm/signer/pkcs11_provider.h"
#include "ferrohsm/signer/provider_registry.h"
#include "support/pkcs11_fixture.h"
#include "support/provider_contract.h"
#include "support/shorthand.h"

namespace ferrohsm::signer::testing {
namespace {

std::atomic<int> label_counter{0};

ProviderFactory token_factory() {
  ProviderFactory f;
  f.name = "pkcs11_" + std::string(test_module_kind());
  // Loads a known Ed25519 key (an RFC 8032 vector) onto the token under the provider's label layout.
  f.import_key = [](KeyProvider& p, const Scope& scope, const KeyId& key_id,
                    std::span<const std::uint8_t, 32> seed) -> std::optional<GeneratedKey> {
    auto session = user_session();
    if (!session) return std::nullopt;
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
    auto made_priv = session->create_object(priv_t);
    EXPECT_TRUE(made_priv) << made_priv.error().message;
    auto made_pub = session->create_object(pub_t);
    EXPECT_TRUE(made_pub) << made_pub.error().message;
    if (!made_priv || !made_pub) return std::nullopt;
    return GeneratedKey{handle, *pub};
  };
  f.make = []() -> std::unique_ptr<KeyProvider> {
    if (!test_token().error.empty()) {
      ADD_FAILURE() << test_token().error;  // no token is a failure, not a skipped contract
      return nullptr;
    }
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

INSTANTIATE_TEST_SUITE_P(Token, ProviderContract, ::testing::Values(token_factory()), factory_name);

using Pkcs11ProviderRules = Pkcs11Fixture;

TEST_F(Pkcs11ProviderRules, LabelsHandlesAndKeyAttributes) {
  auto p = Pkcs11Provider::open(settings_for("acme"));
  ASSERT_TRUE(p) << p.error().message;
  auto gen = (*p)->generate(kCtx, *Scope::parse("payments"), *KeyId::parse("k1"));
  ASSERT_TRUE(gen) << gen.error().message;
  EXPECT_EQ(gen->handle_id, "pkcs11:acme:payments:k1");
  // Generating the same (scope, key_id) again finds the pair: no second key under one label.
  auto again = (*p)->generate(kCtx, *Scope::parse("payments"), *KeyId::parse("k1"));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->public_key, gen->public_key);

  // Look at the token as an operator would: both halves carry <label>:<scope>:<key_id>.
  auto session = user_session();
  ASSERT_TRUE(session);
  std::string label = "acme:payments:k1";
  CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY, pub_class = CKO_PUBLIC_KEY;
  CK_ATTRIBUTE templ[] = {{CKA_CLASS, &priv_class, sizeof priv_class}, {CKA_LABEL, label.data(), label.size()}};
  CK_ATTRIBUTE pub_templ[] = {{CKA_CLASS, &pub_class, sizeof pub_class}, {CKA_LABEL, label.data(), label.size()}};
  auto found = session->find(templ);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  auto found_pub = session->find(pub_templ);
  ASSERT_TRUE(found_pub);
  EXPECT_EQ(found_pub->size(), 1u);
  auto sensitive = session->attribute(found->front(), CKA_SENSITIVE);
  auto extractable = session->attribute(found->front(), CKA_EXTRACTABLE);
  auto key_type = session->attribute(found->front(), CKA_KEY_TYPE);
  auto id = session->attribute(found->front(), CKA_ID);
  ASSERT_TRUE(sensitive && extractable && key_type && id);
  EXPECT_EQ(sensitive->at(0), CK_TRUE);
  EXPECT_EQ(extractable->at(0), CK_FALSE);
  EXPECT_EQ(std::string(id->begin(), id->end()), label);
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
  auto retired_gen = (*p)->generate(kCtx, *Scope::parse("payments"), *KeyId::parse("k1"));
  ASSERT_FALSE(retired_gen);
  EXPECT_EQ(retired_gen.error().kind, ErrorKind::kKeyRetired);
  // A handle of another label is not this provider's.
  auto other = (*p)->sign(kCtx, "pkcs11:other:payments:k1", Digest{});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().kind, ErrorKind::kKeyNotFound);
}

TEST_F(Pkcs11ProviderRules, TheModuleListsWhatTheProviderNeeds) {
  std::vector<CK_MECHANISM_TYPE> rsa_only = {CKM_RSA_PKCS, CKM_SHA256_RSA_PKCS};
  EXPECT_NE(Pkcs11Provider::mechanism_problem(rsa_only).find("CKM_EDDSA"), std::string::npos);
  std::vector<CK_MECHANISM_TYPE> no_keygen = {CKM_EDDSA};
  EXPECT_NE(Pkcs11Provider::mechanism_problem(no_keygen).find("CKM_EC_EDWARDS_KEY_PAIR_GEN"), std::string::npos);
  // The module under test passes the check the provider makes at start.
  CK_ULONG count = 0;
  auto* fn = test_token().module->functions();
  ASSERT_EQ(fn->C_GetMechanismList(test_token().slot, nullptr, &count), CKR_OK);
  std::vector<CK_MECHANISM_TYPE> listed(count);
  ASSERT_EQ(fn->C_GetMechanismList(test_token().slot, listed.data(), &count), CKR_OK);
  listed.resize(count);
  EXPECT_EQ(Pkcs11Provider::mechanism_problem(listed), "");
}

TEST_F(Pkcs11ProviderRules, WiringErrorsAreClear) {
  auto s = settings_for("acme");
  s.pin_file.clear();
  auto no_pin = Pkcs11Provider::open(s);
  ASSERT_FALSE(no_pin);
  EXPECT_NE(no_pin.error().message.find("--pkcs11-pin-file"), std::string::npos);
  s = settings_for("acme");
  s.pin_file = test_token().conf_dir + "/no-such-pin";
  auto missing_file = Pkcs11Provider::open(s);
  ASSERT_FALSE(missing_file);
  EXPECT_EQ(missing_file.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(missing_file.error().message.find("PIN file '" + s.pin_file + "' cannot be read"), std::string::npos)
      << missing_file.error().message;
  s = settings_for("acme");
  s.slot.reset();
  auto no_slot = make_provider("pkcs11", ProviderSettings{"", std::move(s)});
  ASSERT_FALSE(no_slot);
  EXPECT_NE(no_slot.error().message.find("--pkcs11-slot"), std::string::npos);
  s = settings_for("acme");
  s.module = "/nonexistent/libnothing.so";
  auto no_module = Pkcs11Provider::open(s);
  ASSERT_FALSE(no_module);
  s = settings_for("acme");
  s.pin = Secret("Wr0ng-Pin-x9Q");  // not digits alone: they could be in a code or an id by chance
  s.pin_file.clear();
  auto wrong_pin = Pkcs11Provider::open(s);
  ASSERT_FALSE(wrong_pin);
  EXPECT_EQ(wrong_pin.error().kind, ErrorKind::kProviderUnavailable);
  EXPECT_NE(wrong_pin.error().message.find("CKR_PIN_INCORRECT"), std::string::npos) << wrong_pin.error().message;
  EXPECT_EQ(wrong_pin.error().message.find("Wr0ng-Pin-x9Q"), std::string::npos);  // never echo the PIN
}

TEST_F(Pkcs11ProviderRules, DevOnlyPinFlagWorks) {
  auto s = settings_for("devpin");
  s.pin_file.clear();
  s.pin = Secret(kTokenUserPin);
  auto p = Pkcs11Provider::open(s);
  ASSERT_TRUE(p) << p.error().message;
  auto gen = (*p)->generate(kCtx, *Scope::parse("dev"), *KeyId::parse("k1"));
  ASSERT_TRUE(gen) << gen.error().message;
  Digest d = sha512_of("dev pin");
  auto sig = (*p)->sign(kCtx, gen->handle_id, d);
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_TRUE(ed25519::verify(gen->public_key, d, *sig));
}

}  // namespace
}  // namespace ferrohsm::signer::testing
