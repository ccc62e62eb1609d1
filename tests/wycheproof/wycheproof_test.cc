// Every Wycheproof file in WYCHEPROOF_DIR through FerroHSM's PKCS#11 interface.
// kFiles maps each file the harness handles to its runner; AllFilesAreHandled
// fails when the folder holds a file that is not in the table (or the table names
// a file that is missing). kLimits lists, with the reason, the cases FerroHSM
// refuses by a documented limit (CKR_MECHANISM_PARAM_INVALID); they are counted
// and reported, never skipped silently.
#include "harness.h"
#include "module.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <cctype>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

namespace wycheproof {
namespace {

namespace fs = std::filesystem;

const std::map<std::string, Runner> kFiles = {
    {"aes_cbc_pkcs5_test.json", run_aes_cbc_pad},
    {"aes_ccm_test.json", run_aead},
    {"aes_cmac_test.json", run_aes_cmac},
    {"aes_gcm_test.json", run_aead},
    {"aes_kwp_test.json", run_key_wrap},
    {"aes_wrap_test.json", run_key_wrap},
    {"chacha20_poly1305_test.json", run_aead},
    {"ecdh_secp256r1_ecpoint_test.json", run_ecdh},
    {"ecdh_secp384r1_ecpoint_test.json", run_ecdh},
    {"ecdh_secp521r1_ecpoint_test.json", run_ecdh},
    {"ecdsa_brainpoolP256r1_sha256_p1363_test.json", run_ecdsa_p1363},
    {"ecdsa_secp256k1_sha256_p1363_test.json", run_ecdsa_p1363},
    {"ecdsa_secp256r1_sha256_p1363_test.json", run_ecdsa_p1363},
    {"ecdsa_secp384r1_sha384_p1363_test.json", run_ecdsa_p1363},
    {"ecdsa_secp521r1_sha512_p1363_test.json", run_ecdsa_p1363},
    {"ed25519_test.json", run_eddsa},
    {"ed448_test.json", run_eddsa},
    {"hkdf_sha256_test.json", run_hkdf},
    {"hkdf_sha384_test.json", run_hkdf},
    {"hkdf_sha512_test.json", run_hkdf},
    {"hmac_sha1_test.json", run_hmac},
    {"hmac_sha256_test.json", run_hmac},
    {"hmac_sha384_test.json", run_hmac},
    {"hmac_sha3_256_test.json", run_hmac},
    {"hmac_sha512_test.json", run_hmac},
    {"pbkdf2_hmacsha256_test.json", run_pbkdf2},
    {"rsa_oaep_2048_sha1_mgf1sha1_test.json", run_rsa_oaep},
    {"rsa_oaep_2048_sha256_mgf1sha1_test.json", run_rsa_oaep},
    {"rsa_oaep_2048_sha256_mgf1sha256_test.json", run_rsa_oaep},
    {"rsa_pkcs1_2048_test.json", run_rsa_pkcs1_dec},
    {"rsa_pss_2048_sha256_mgf1_32_test.json", run_rsa_pss},
    {"rsa_pss_3072_sha256_mgf1_32_test.json", run_rsa_pss},
    {"rsa_pss_4096_sha512_mgf1_64_test.json", run_rsa_pss},
    {"rsa_signature_2048_sha256_test.json", run_rsa_pkcs1_sig},
    {"rsa_signature_2048_sha384_test.json", run_rsa_pkcs1_sig},
    {"rsa_signature_2048_sha512_test.json", run_rsa_pkcs1_sig},
    {"rsa_signature_3072_sha256_test.json", run_rsa_pkcs1_sig},
    {"rsa_signature_4096_sha512_test.json", run_rsa_pkcs1_sig},
    {"x25519_test.json", run_xdh},
    {"x448_test.json", run_xdh},
};

size_t hex_bytes(const Json& t, const char* field) { return t.at(field).get<std::string>().size() / 2; }

// The documented limits: a valid case refused with CKR_MECHANISM_PARAM_INVALID is
// accepted only when a row names it.
const std::vector<Limit> kLimits = {
    {"aes_gcm_test.json",
     "GCM IV longer than 128 bytes: OpenSSL 3.0 caps GCM IVs at 128 bytes (GCM_IV_MAX_SIZE), PKCS#11 at 256",
     [](const Json&, const Json& t) { return hex_bytes(t, "iv") > 128; }},
};

std::vector<const Limit*> limits_for(const std::string& file) {
  std::vector<const Limit*> out;
  for (const Limit& l : kLimits)
    if (file == l.file) out.push_back(&l);
  return out;
}

TEST(Wycheproof, AllFilesAreHandled) {
  std::set<std::string> on_disk;
  for (const auto& e : fs::directory_iterator(WYCHEPROOF_DIR))
    if (e.path().extension() == ".json") on_disk.insert(e.path().filename().string());
  ASSERT_FALSE(on_disk.empty()) << "no Wycheproof files in " << WYCHEPROOF_DIR;
  for (const std::string& f : on_disk) EXPECT_TRUE(kFiles.count(f) != 0) << f << " is not exercised by the harness";
  for (const auto& [f, runner] : kFiles) EXPECT_TRUE(on_disk.count(f) != 0) << f << " is handled but missing on disk";
}

class WycheproofFile : public testing::TestWithParam<std::string> {};

TEST_P(WycheproofFile, EveryCase) {
  const std::string name = GetParam();
  std::string error;
  const Session& s = module_session(error);
  ASSERT_NE(s.f, nullptr) << "module setup failed: " << error;
  std::ifstream in(fs::path(WYCHEPROOF_DIR) / name);
  ASSERT_TRUE(in.good()) << "cannot open " << name;
  const Json file = Json::parse(in);
  int expected = 0;
  for (const Json& g : file.at("testGroups")) expected += static_cast<int>(g.at("tests").size());
  const Tally tally = kFiles.at(name)(s, file, limits_for(name));
  EXPECT_EQ(tally.total(), expected) << "every case must be counted";
  EXPECT_GT(expected, 0);
  RecordProperty("passed", tally.passed);
  RecordProperty("limited", tally.limited);
  std::cout << "[ wycheproof ] " << name << ": " << tally.passed << " passed, " << tally.limited
            << " rejected by a documented limit, " << tally.failures.size() << " failed (of " << expected << ")\n";
  std::string shown;
  for (size_t i = 0; i < tally.failures.size() && i < 10; ++i) shown += "\n  " + tally.failures[i];
  EXPECT_TRUE(tally.failures.empty()) << tally.failures.size() << " failing cases, first ones:" << shown;
}

std::vector<std::string> file_names() {
  std::vector<std::string> v;
  for (const auto& [f, runner] : kFiles) v.push_back(f);
  return v;
}

std::string test_name(const testing::TestParamInfo<std::string>& info) {
  std::string n = info.param.substr(0, info.param.size() - std::string("_test.json").size());
  std::replace_if(n.begin(), n.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(Files, WycheproofFile, testing::ValuesIn(file_names()), test_name);

}  // namespace
}  // namespace wycheproof
