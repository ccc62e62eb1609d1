// MAC files: HMAC (full or truncated tags: CKM_*_HMAC or CKM_*_HMAC_GENERAL) and
// AES-CMAC. Each case imports its key; a valid case must verify and sign to the
// expected tag, an invalid one must not verify.
#include "harness.h"

#include <map>

namespace wycheproof {
namespace {

struct MacMechs {
  CK_MECHANISM_TYPE full, general;
  CK_KEY_TYPE key_type;
  size_t full_len;
};

MacMechs mechs_for(const std::string& algorithm) {
  static const std::map<std::string, MacMechs> kTable = {
      {"HMACSHA1", {CKM_SHA_1_HMAC, CKM_SHA_1_HMAC_GENERAL, CKK_GENERIC_SECRET, 20}},
      {"HMACSHA224", {CKM_SHA224_HMAC, CKM_SHA224_HMAC_GENERAL, CKK_GENERIC_SECRET, 28}},
      {"HMACSHA256", {CKM_SHA256_HMAC, CKM_SHA256_HMAC_GENERAL, CKK_GENERIC_SECRET, 32}},
      {"HMACSHA384", {CKM_SHA384_HMAC, CKM_SHA384_HMAC_GENERAL, CKK_GENERIC_SECRET, 48}},
      {"HMACSHA512", {CKM_SHA512_HMAC, CKM_SHA512_HMAC_GENERAL, CKK_GENERIC_SECRET, 64}},
      {"HMACSHA3-256", {CKM_SHA3_256_HMAC, CKM_SHA3_256_HMAC_GENERAL, CKK_GENERIC_SECRET, 32}},
      {"AES-CMAC", {CKM_AES_CMAC, CKM_AES_CMAC_GENERAL, CKK_AES, 16}},
  };
  auto it = kTable.find(algorithm);
  return it == kTable.end() ? MacMechs{} : it->second;
}

Outcome mac_case(const Session& s, const MacMechs& mm, size_t tag_len, const Json& t) {
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  CK_RV rv = import_secret(s, mm.key_type, hex_field(t, "key"), key);
  if (rv != CKR_OK) return {rv, false, "C_CreateObject"};
  CK_MAC_GENERAL_PARAMS len = tag_len;
  CK_MECHANISM m = tag_len == mm.full_len ? CK_MECHANISM{mm.full, nullptr, 0} : CK_MECHANISM{mm.general, &len, sizeof len};
  Bytes msg = hex_field(t, "msg"), tag = hex_field(t, "tag");
  Outcome o;
  if ((rv = s.f->C_VerifyInit(s.h, &m, key)) != CKR_OK) {
    o = {rv, false, "C_VerifyInit"};
  } else if ((rv = s.f->C_Verify(s.h, msg.data(), msg.size(), tag.data(), tag.size())) != CKR_OK) {
    o = {rv, false, "C_Verify"};
  } else if ((rv = s.f->C_SignInit(s.h, &m, key)) != CKR_OK) {
    o = {rv, false, "C_SignInit"};
  } else {
    Bytes out(64);
    CK_ULONG n = out.size();
    rv = s.f->C_Sign(s.h, msg.data(), msg.size(), out.data(), &n);
    out.resize(rv == CKR_OK ? n : 0);
    o = {rv, rv == CKR_OK && out != tag, "C_Sign"};
  }
  s.destroy(key);
  return o;
}

Tally run_mac(const Session& s, const Json& file, const std::vector<const Limit*>& limits) {
  Tally tally;
  const MacMechs mm = mechs_for(file.at("algorithm"));
  for (const Json& g : file.at("testGroups")) {
    const size_t tag_len = g.at("tagSize").get<size_t>() / 8;
    for (const Json& t : g.at("tests")) {
      Outcome o = mm.full == 0 ? Outcome{CKR_MECHANISM_INVALID, false, "harness: unknown algorithm"} : mac_case(s, mm, tag_len, t);
      record(tally, g, t, o, limits);
    }
  }
  return tally;
}

}  // namespace

Tally run_hmac(const Session& s, const Json& file, const std::vector<const Limit*>& limits) { return run_mac(s, file, limits); }
Tally run_aes_cmac(const Session& s, const Json& file, const std::vector<const Limit*>& limits) {
  return run_mac(s, file, limits);
}

}  // namespace wycheproof
