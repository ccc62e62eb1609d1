// Writes the seed corpora (make fuzz-seeds): fuzz_write_seeds <dir> fills
// <dir>/<harness>/ with small, meaningful inputs — valid templates, mechanisms with
// well-formed parameters, saved states the module itself produced, configuration
// files — through the same encoders the harnesses decode with. Signatures,
// ciphertexts and wrapped keys are the module's own outputs under the harnesses'
// fixed keys (common/fixed_keys.h), so the operations that check them succeed.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/fixed_keys.h"
#include "common/input.h"
#include "common/mech_params.h"
#include "common/templates.h"
#include "harnesses.h"
#include "seeds/seeds.h"

namespace ferrohsm::fuzz::seeds {
namespace fs = std::filesystem;
namespace {

fs::path g_dir;
int g_count = 0;

}  // namespace

void save(const char* harness, const std::string& name, const Bytes& b) {
  fs::create_directories(g_dir / harness);
  std::ofstream(g_dir / harness / name, std::ios::binary).write(reinterpret_cast<const char*>(b.data()),
                                                                 static_cast<std::streamsize>(b.size()));
  ++g_count;
}
void save_text(const char* harness, const std::string& name, const std::string& text) {
  save(harness, name, Bytes(text.begin(), text.end()));
}

Bytes counting(size_t n, uint8_t from) {
  Bytes v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(from + i);
  return v;
}
Bytes str(const char* s) { return Bytes(s, s + std::char_traits<char>::length(s)); }
Bytes ulongs(std::initializer_list<CK_ULONG> v) {
  Bytes out;
  for (CK_ULONG x : v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&x);
    out.insert(out.end(), p, p + sizeof x);
  }
  return out;
}

// --- fuzz_templates -------------------------------------------------------------------

void template_seeds() {
  const FixedKeys& fk = fixed_keys();
  auto create = [](const std::string& name, const std::vector<SeedAttr>& t) {
    Writer w;
    w.u8(kCreateObject);
    write_template(w, t);
    save("templates", name, w.bytes());
  };
  auto generate = [](const std::string& name, CK_MECHANISM_TYPE mech, const std::vector<SeedAttr>& t) {
    Writer w;
    w.u8(kGenerateKey).ulong(mech);
    write_null_param(w);
    write_template(w, t);
    save("templates", name, w.bytes());
  };
  auto pair = [](const std::string& name, CK_MECHANISM_TYPE mech, const std::vector<SeedAttr>& pub,
                 const std::vector<SeedAttr>& priv) {
    Writer w;
    w.u8(kGenerateKeyPair).ulong(mech);
    write_null_param(w);
    write_template(w, pub);
    write_template(w, priv);
    save("templates", name, w.bytes());
  };

  create("create-aes-session", {ck_ulong(CKA_CLASS, CKO_SECRET_KEY), ck_ulong(CKA_KEY_TYPE, CKK_AES),
                                ck_bytes(CKA_VALUE, counting(16)), ck_bool(CKA_TOKEN, false),
                                ck_bool(CKA_ENCRYPT, true), ck_bool(CKA_DECRYPT, true), ck_string(CKA_LABEL, "aes")});
  create("create-aes-token-wrap-template",
         {ck_ulong(CKA_CLASS, CKO_SECRET_KEY), ck_ulong(CKA_KEY_TYPE, CKK_AES), ck_bytes(CKA_VALUE, counting(32)),
          ck_bool(CKA_TOKEN, true), ck_bool(CKA_WRAP, true), ck_bool(CKA_UNWRAP, true), ck_bool(CKA_SENSITIVE, true),
          ck_array(CKA_WRAP_TEMPLATE, {ck_ulong(CKA_CLASS, CKO_SECRET_KEY), ck_bool(CKA_EXTRACTABLE, true)}),
          ck_array(CKA_UNWRAP_TEMPLATE, {ck_ulong(CKA_KEY_TYPE, CKK_AES), ck_bool(CKA_SENSITIVE, true)})});
  create("create-generic-allowed-mechanisms",
         {ck_ulong(CKA_CLASS, CKO_SECRET_KEY), ck_ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET),
          ck_bytes(CKA_VALUE, counting(32, 0x40)), ck_bool(CKA_SIGN, true), ck_bool(CKA_DERIVE, true),
          ck_bytes(CKA_ALLOWED_MECHANISMS, ulongs({CKM_SHA256_HMAC, CKM_HKDF_DERIVE})),
          ck_array(CKA_DERIVE_TEMPLATE, {ck_ulong(CKA_KEY_TYPE, CKK_AES), ck_ulong(CKA_VALUE_LEN, 16)})});
  create("create-des3-chacha", {ck_ulong(CKA_CLASS, CKO_SECRET_KEY), ck_ulong(CKA_KEY_TYPE, CKK_DES3),
                                ck_bytes(CKA_VALUE, counting(24, 0x80)), ck_bool(CKA_MODIFIABLE, false),
                                ck_bool(CKA_COPYABLE, false), ck_bool(CKA_DESTROYABLE, false)});
  create("create-chacha20", {ck_ulong(CKA_CLASS, CKO_SECRET_KEY), ck_ulong(CKA_KEY_TYPE, CKK_CHACHA20),
                             ck_bytes(CKA_VALUE, counting(32, 0x20)), ck_bytes(CKA_START_DATE, str("20240101")),
                             ck_bytes(CKA_END_DATE, str("20341231"))});
  create("create-data-token", {ck_ulong(CKA_CLASS, CKO_DATA), ck_bool(CKA_TOKEN, true), ck_bool(CKA_PRIVATE, true),
                               ck_string(CKA_APPLICATION, "fuzz"), ck_bytes(CKA_OBJECT_ID, {0x06, 0x01, 0x2a}),
                               ck_bytes(CKA_VALUE, str("hello")), ck_string(CKA_LABEL, "data")});
  create("create-certificate", {ck_ulong(CKA_CLASS, CKO_CERTIFICATE), ck_ulong(CKA_CERTIFICATE_TYPE, CKC_X_509),
                                ck_bytes(CKA_SUBJECT, {0x30, 0x00}), ck_bytes(CKA_ID, {1, 2, 3}),
                                ck_bytes(CKA_VALUE, {0x30, 0x03, 0x02, 0x01, 0x01}), ck_bool(CKA_TRUSTED, false),
                                ck_ulong(CKA_CERTIFICATE_CATEGORY, 0)});
  create("create-ec-public", {ck_ulong(CKA_CLASS, CKO_PUBLIC_KEY), ck_ulong(CKA_KEY_TYPE, CKK_EC),
                              ck_bytes(CKA_EC_PARAMS, kP256),
                              ck_bytes(CKA_EC_POINT, fk.p256_point),
                              ck_bool(CKA_VERIFY, true)});
  create("create-ec-private", {ck_ulong(CKA_CLASS, CKO_PRIVATE_KEY), ck_ulong(CKA_KEY_TYPE, CKK_EC),
                               ck_bytes(CKA_EC_PARAMS, kP256), ck_bytes(CKA_VALUE, fk.p256_value),
                               ck_bool(CKA_SIGN, true), ck_bool(CKA_SENSITIVE, true)});
  create("create-ed25519-public", {ck_ulong(CKA_CLASS, CKO_PUBLIC_KEY), ck_ulong(CKA_KEY_TYPE, CKK_EC_EDWARDS),
                                   ck_bytes(CKA_EC_PARAMS, kEd25519),
                                   ck_bytes(CKA_EC_POINT, fk.ed25519_point)});
  create("create-x25519-private", {ck_ulong(CKA_CLASS, CKO_PRIVATE_KEY), ck_ulong(CKA_KEY_TYPE, CKK_EC_MONTGOMERY),
                                   ck_bytes(CKA_EC_PARAMS, kX25519),
                                   ck_bytes(CKA_VALUE, fk.x25519_value),
                                   ck_bool(CKA_DERIVE, true)});
  create("create-rsa-public", {ck_ulong(CKA_CLASS, CKO_PUBLIC_KEY), ck_ulong(CKA_KEY_TYPE, CKK_RSA),
                               ck_bytes(CKA_MODULUS, fk.n),
                               ck_bytes(CKA_PUBLIC_EXPONENT, {0x01, 0x00, 0x01}), ck_bool(CKA_ENCRYPT, true)});
  std::vector<SeedAttr> rsa = {ck_ulong(CKA_CLASS, CKO_PRIVATE_KEY), ck_ulong(CKA_KEY_TYPE, CKK_RSA),
                               ck_bool(CKA_SIGN, true), ck_bool(CKA_TOKEN, true)};
  for (auto [t, v] : {std::pair{CKA_MODULUS, &fk.n}, {CKA_PUBLIC_EXPONENT, &fk.e}, {CKA_PRIVATE_EXPONENT, &fk.d},
                      {CKA_PRIME_1, &fk.p}, {CKA_PRIME_2, &fk.q}, {CKA_EXPONENT_1, &fk.dp}, {CKA_EXPONENT_2, &fk.dq},
                      {CKA_COEFFICIENT, &fk.qinv}})
    rsa.push_back(ck_bytes(t, *v));
  create("create-rsa-private-token", rsa);
  create("create-unknown-type", {ck_ulong(CKA_CLASS, CKO_DATA), ck_bytes(CKA_VENDOR_DEFINED | 0x42, {1})});

  generate("generate-aes", CKM_AES_KEY_GEN, {ck_ulong(CKA_VALUE_LEN, 32), ck_bool(CKA_ENCRYPT, true),
                                             ck_bool(CKA_TOKEN, false), ck_string(CKA_LABEL, "gen")});
  generate("generate-aes-token", CKM_AES_KEY_GEN, {ck_ulong(CKA_VALUE_LEN, 16), ck_bool(CKA_TOKEN, true),
                                                   ck_bool(CKA_EXTRACTABLE, false), ck_bytes(CKA_ID, {9})});
  generate("generate-generic", CKM_GENERIC_SECRET_KEY_GEN, {ck_ulong(CKA_VALUE_LEN, 64), ck_bool(CKA_SIGN, true)});
  generate("generate-des3", CKM_DES3_KEY_GEN, {ck_bool(CKA_ENCRYPT, true)});
  generate("generate-chacha20", CKM_CHACHA20_KEY_GEN, {ck_bool(CKA_ENCRYPT, true)});
  generate("generate-hkdf", CKM_HKDF_KEY_GEN, {ck_ulong(CKA_VALUE_LEN, 32), ck_bool(CKA_DERIVE, true)});

  pair("pair-p256", CKM_EC_KEY_PAIR_GEN, {ck_bytes(CKA_EC_PARAMS, kP256), ck_bool(CKA_VERIFY, true)},
       {ck_bool(CKA_SIGN, true), ck_bool(CKA_SENSITIVE, true), ck_bool(CKA_TOKEN, true)});
  pair("pair-ed25519", CKM_EC_EDWARDS_KEY_PAIR_GEN, {ck_bytes(CKA_EC_PARAMS, kEd25519)},
       {ck_bool(CKA_SIGN, true), ck_bytes(CKA_ID, {1})});
  pair("pair-x25519", CKM_EC_MONTGOMERY_KEY_PAIR_GEN, {ck_bytes(CKA_EC_PARAMS, kX25519)}, {ck_bool(CKA_DERIVE, true)});
  pair("pair-rsa", CKM_RSA_PKCS_KEY_PAIR_GEN,
       {ck_ulong(CKA_MODULUS_BITS, 2048), ck_bytes(CKA_PUBLIC_EXPONENT, {0x01, 0x00, 0x01}), ck_bool(CKA_VERIFY, true)},
       {ck_bool(CKA_SIGN, true), ck_bool(CKA_PRIVATE, true)});
}

// --- fuzz_op_state ----------------------------------------------------------------------

void op_state_seeds(Module& m) {
  CK_FUNCTION_LIST_3_0* f = m.f;
  const CK_SESSION_HANDLE s = m.open_session();
  auto saved = [&](CK_MECHANISM_TYPE mech, const Bytes& input) {
    CK_MECHANISM mm{mech, nullptr, 0};
    if (f->C_DigestInit(s, &mm) != CKR_OK) fail("C_DigestInit (seed)", CKR_OK);
    if (!input.empty() && f->C_DigestUpdate(s, const_cast<uint8_t*>(input.data()), input.size()) != CKR_OK)
      fail("C_DigestUpdate (seed)", CKR_OK);
    CK_ULONG len = 0;
    if (f->C_GetOperationState(s, nullptr, &len) != CKR_OK) fail("C_GetOperationState (seed)", CKR_OK);
    Bytes state(len);
    if (f->C_GetOperationState(s, state.data(), &len) != CKR_OK) fail("C_GetOperationState (seed)", CKR_OK);
    CK_BYTE out[64];
    CK_ULONG out_len = sizeof out;
    f->C_DigestFinal(s, out, &out_len);
    return state;
  };
  auto seed = [](const std::string& name, StateBefore before, const Bytes& state) {
    Writer w;
    w.u8(before).u8(kInvalidHandle).u8(kInvalidHandle).raw(state.data(), state.size());
    save("op_state", name, w.bytes());
  };
  seed("sha256-empty", kIdle, saved(CKM_SHA256, {}));
  seed("sha256-abc", kIdle, saved(CKM_SHA256, str("abc")));
  seed("sha1-while-digesting", kDigesting, saved(CKM_SHA_1, counting(100)));
  seed("sha3-384-while-signing", kSigning, saved(CKM_SHA3_384, str("data")));
  seed("sha512-224", kIdle, saved(CKM_SHA512_224, counting(200)));
  seed("md5", kIdle, saved(CKM_MD5, str("x")));
  Writer keyed;  // a digest state given a key it does not need
  Bytes st = saved(CKM_SHA256, str("abc"));
  keyed.u8(kIdle).u8(kAes128).u8(kGenericSecret).raw(st.data(), st.size());
  save("op_state", "sha256-with-keys", keyed.bytes());
  m.end_iteration(s, {});
}

// --- fuzz_config --------------------------------------------------------------------------

void config_seeds() {
  save_text("config", "readme", R"([store]
path = "/var/lib/ferrohsm/ferrohsm.db"

[log]
level = "warn"
destination = "stderr"

[pin]
min_length = 4
max_length = 128
max_failed_logins = 10
kdf_iterations = 600000

[dev]
allow_weak_kdf = false

[token."mytoken"]
deny_mechanisms = [0x1]
)");
  save_text("config", "tests", R"([store]
path = "/tmp/ferrohsm-abi/ferrohsm.db"

[log]
level = "debug"
destination = "/tmp/ferrohsm.log"

[pin]
min_length = 6
max_length = 64
max_failed_logins = 3
kdf_iterations = 1000

[dev]
allow_weak_kdf = true
)");
  save_text("config", "policies", R"([store]
backend = "sqlite"
path = 'ferrohsm.db'

[token."a"]
allow_mechanisms = [0x1040, 0x1041, 0x1057, 4224]

[token."b c"]
deny_mechanisms = [0x250, 0x1087]
allow_mechanisms = []
)");
  save_text("config", "inline-tables", "store = { path = \"x.db\" }\nlog = { level = \"off\" }\n"
                                       "pin = { min_length = 1, max_length = 1 }\n");
  save_text("config", "empty", "");
  save_text("config", "comments", "# nothing but a comment\n\n[pin] # the PIN\nmax_failed_logins = 1000\n");
}

}  // namespace ferrohsm::fuzz::seeds

int main(int argc, char** argv) {
  using namespace ferrohsm::fuzz;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
    return 2;
  }
  seeds::g_dir = argv[1];
  seeds::config_seeds();
  seeds::template_seeds();
  Module& m = Module::get();
  seeds::mech_seeds(m);
  seeds::op_state_seeds(m);
  std::printf("fuzz_write_seeds: %d seeds under %s\n", seeds::g_count, seeds::g_dir.c_str());
  return 0;
}
