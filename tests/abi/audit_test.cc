// The audit trail through the C ABI (docs/AUDIT.md): every record type with its fields,
// no PIN, key byte, data or signature in the log, the log's tampering found and named
// (by the library and by `ferrohsm audit verify`), and required mode: with a sink that
// cannot be written, operations fail with CKR_FUNCTION_FAILED and nothing happens.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "audit/verify.h"
#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

namespace fs = std::filesystem;

const Bytes kAesValue = {0x13, 0x37, 0xc0, 0xde, 0x5e, 0xc2, 0xe7, 0x99, 0xa1, 0x0b, 0xf0, 0x0d, 0x71, 0x3e, 0x44, 0x8c};
const std::string kData = "audit-secret-data-0xC0FFEE";
const std::string kNewUserPin = "new-user-pin-Hh5%wQ";

std::string Hex(const Bytes& b, bool upper = false) {
  static const char* lo = "0123456789abcdef";
  static const char* up = "0123456789ABCDEF";
  std::string s;
  for (uint8_t c : b) {
    s += (upper ? up : lo)[c >> 4];
    s += (upper ? up : lo)[c & 15];
  }
  return s;
}

// Runs the CLI; returns its exit status, with stderr in *err.
int RunCli(const std::vector<std::string>& args, std::string* err) {
  std::string errfile = fs::temp_directory_path() / ("fh-audit-cli-" + std::to_string(getpid()) + ".err");
  std::string cmd = FERROHSM_CLI_PATH;
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " >/dev/null 2>" + errfile;
  int st = std::system(cmd.c_str());
  std::ifstream in(errfile);
  err->assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(errfile);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

class AuditTest : public ModuleTest {
 protected:
  AuditTest() {
    dir_ = fs::temp_directory_path() / ("fh-audit-abi-" + std::to_string(getpid()) + "-" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    file_ = (dir_ / "audit.jsonl").string();
    setenv("FH_AUDIT_TEST_PIN", kUserPin, 1);
  }
  ~AuditTest() override { fs::remove_all(dir_); }

  std::string AuditToml(const std::string& file, bool required) const {
    return "[audit]\nfile = \"" + file + "\"\ntoken = \"" + kTokenLabel +
           "\"\npin = \"env:FH_AUDIT_TEST_PIN\"\nrequired = " + (required ? "true" : "false") + "\n" +
           // One key that does everything, to give every record type: the hardening
           // rules (hardening_test.cc's subject) would refuse it.
           kHardeningOff;
  }
  StoreOptions Options() const override {
    StoreOptions o;
    o.max_failed_logins = 3;
    o.extra_config = AuditToml(file_, false);
    return o;
  }
  std::vector<std::string> Lines() {
    std::ifstream in(file_);
    std::vector<std::string> out;
    std::string l;
    while (std::getline(in, l)) out.push_back(l);
    return out;
  }
  std::vector<audit::Line> Records() {
    std::vector<audit::Line> out;
    for (const auto& l : Lines()) {
      auto d = audit::decode_line(l);
      EXPECT_TRUE(d.ok()) << l;
      if (d.ok() && d->kind == "call") out.push_back(*d);
    }
    return out;
  }
  // The first record of `function` (with `rv` when given); fails the test when none.
  audit::Record Find(const std::vector<audit::Line>& recs, const std::string& function, const std::string& rv = "") {
    for (const auto& l : recs)
      if (l.record.function == function && (rv.empty() || l.record.rv == rv)) return l.record;
    ADD_FAILURE() << "no " << function << " " << rv << " record";
    return {};
  }

  // Every kind of audited call, once; then C_Finalize (the closing checkpoint).
  void RunEverything() {
    CK_SLOT_ID slot = InitToken();
    ASSERT_NE(slot, kNoSlot);
    CK_SESSION_HANDLE s = Open(slot);
    EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_USER, "wrong-pin-1"));
    ASSERT_CKR_OK(Login(s, CKU_USER, kUserPin));
    ASSERT_CKR_OK(f_->C_SetPIN(s, U8(kUserPin), strlen(kUserPin), U8(kNewUserPin), kNewUserPin.size()));
    ASSERT_CKR_OK(f_->C_SetPIN(s, U8(kNewUserPin), kNewUserPin.size(), U8(kUserPin), strlen(kUserPin)));

    Created data = CreateObject(f_, s, Template().Ulong(CKA_CLASS, CKO_DATA).Str(CKA_LABEL, "audit-data").Bool(CKA_TOKEN, true));
    ASSERT_CKR_OK(data.rv);
    CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
    ASSERT_CKR_OK(f_->C_CopyObject(s, data.handle, nullptr, 0, &copy));
    Template relabel = Template().Str(CKA_LABEL, "audit-data-2");
    ASSERT_CKR_OK(f_->C_SetAttributeValue(s, copy, relabel.data(), relabel.size()));
    ASSERT_CKR_OK(f_->C_DestroyObject(s, copy));

    KeyOptions ko;
    ko.label = "audit-aes";
    ko.encrypt = true;
    ko.token = true;
    ko.extractable = true;
    Template aes = Template()
                       .Ulong(CKA_CLASS, CKO_SECRET_KEY)
                       .Ulong(CKA_KEY_TYPE, CKK_AES)
                       .Bytes(CKA_VALUE, kAesValue)
                       .Str(CKA_LABEL, "audit-aes")
                       .Bool(CKA_ENCRYPT, true)
                       .Bool(CKA_DECRYPT, true)
                       .Bool(CKA_WRAP, true)
                       .Bool(CKA_UNWRAP, true)
                       .Bool(CKA_DERIVE, true)
                       .Bool(CKA_EXTRACTABLE, true);
    Created key = CreateObject(f_, s, aes);
    ASSERT_CKR_OK(key.rv);
    SecretKey gen = GenerateAes(f_, s, 16, ko);
    ASSERT_CKR_OK(gen.rv);
    KeyOptions eo;
    eo.label = "audit-p256";
    KeyPair ec = GenerateEc(f_, s, "P-256", eo);
    ASSERT_CKR_OK(ec.rv);

    CK_MECHANISM ecdsa{CKM_ECDSA_SHA256, nullptr, 0};
    ASSERT_CKR_OK(f_->C_SignInit(s, &ecdsa, ec.priv));
    Bytes sig(64);
    CK_ULONG sig_len = sig.size();
    ASSERT_CKR_OK(f_->C_Sign(s, (CK_BYTE_PTR)kData.data(), kData.size(), sig.data(), &sig_len));
    sig.resize(sig_len);
    signature_ = sig;
    ASSERT_CKR_OK(f_->C_VerifyInit(s, &ecdsa, ec.pub));
    ASSERT_CKR_OK(f_->C_Verify(s, (CK_BYTE_PTR)kData.data(), kData.size(), sig.data(), sig.size()));

    uint8_t iv[16] = {};
    CK_MECHANISM cbc{CKM_AES_CBC_PAD, iv, sizeof iv};
    ASSERT_CKR_OK(f_->C_EncryptInit(s, &cbc, key.handle));
    uint8_t ct[64];
    CK_ULONG ct_len = sizeof ct;
    ASSERT_CKR_OK(f_->C_Encrypt(s, (CK_BYTE_PTR)kData.data(), kData.size(), ct, &ct_len));
    ASSERT_CKR_OK(f_->C_DecryptInit(s, &cbc, key.handle));
    uint8_t pt[64];
    CK_ULONG pt_len = sizeof pt;
    ASSERT_CKR_OK(f_->C_Decrypt(s, ct, ct_len, pt, &pt_len));
    CK_MECHANISM sha{CKM_SHA256, nullptr, 0};
    ASSERT_CKR_OK(f_->C_DigestInit(s, &sha));
    ASSERT_CKR_OK(f_->C_DigestKey(s, key.handle));
    uint8_t md[32];
    CK_ULONG md_len = sizeof md;
    ASSERT_CKR_OK(f_->C_DigestFinal(s, md, &md_len));

    CK_MECHANISM kw{CKM_AES_KEY_WRAP, nullptr, 0};
    uint8_t wrapped[64];
    CK_ULONG wrapped_len = sizeof wrapped;
    ASSERT_CKR_OK(f_->C_WrapKey(s, &kw, key.handle, gen.handle, wrapped, &wrapped_len));
    wrapped_.assign(wrapped, wrapped + wrapped_len);
    Template ut = Template().Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Str(CKA_LABEL, "audit-unwrapped");
    CK_OBJECT_HANDLE unwrapped = CK_INVALID_HANDLE;
    ASSERT_CKR_OK(f_->C_UnwrapKey(s, &kw, key.handle, wrapped, wrapped_len, ut.data(), ut.size(), &unwrapped));
    uint8_t dd[16] = {};
    CK_KEY_DERIVATION_STRING_DATA p{dd, sizeof dd};
    CK_MECHANISM ecb{CKM_AES_ECB_ENCRYPT_DATA, &p, sizeof p};
    Template dt = Template().Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET).Str(CKA_LABEL, "audit-derived");
    CK_OBJECT_HANDLE derived = CK_INVALID_HANDLE;
    ASSERT_CKR_OK(f_->C_DeriveKey(s, &ecb, key.handle, dt.data(), dt.size(), &derived));
    ASSERT_CKR_OK(f_->C_Logout(s));
    // The lockout (max_failed_logins = 3), of the SO: the user PIN still opens the audit
    // key for the closing checkpoint.
    EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_SO, "wrong-pin-2"));
    EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, CKU_SO, "wrong-pin-3"));
    CK_RV third = Login(s, CKU_SO, "wrong-pin-4");
    EXPECT_TRUE(third == CKR_PIN_LOCKED || third == CKR_PIN_INCORRECT) << third;
    EXPECT_CKR(CKR_PIN_LOCKED, Login(s, CKU_SO, kSoPin));
    ASSERT_CKR_OK(f_->C_Finalize(nullptr));
    ForgetInitialized();
    // Sidecar mode: the server writes the records; it closes its log when it stops (and
    // the fixture starts it again).
    if (IsSidecar()) store_->WriteConfig(Options());
  }

  fs::path dir_;
  std::string file_;
  Bytes signature_, wrapped_;
};

TEST_F(AuditTest, EveryRecordTypeCarriesItsFields) {
  ASSERT_NO_FATAL_FAILURE(RunEverything());
  auto recs = Records();
  const std::string uid = "uid:" + std::to_string(getuid());
  for (const auto& l : recs) {
    // Embedded: this process. Sidecar: the peer as the server established it, and no
    // pid or executable (the server's own would name the wrong process).
    EXPECT_EQ(l.record.identity, uid) << l.canonical;
    EXPECT_EQ(l.record.pid, IsSidecar() ? 0 : getpid()) << l.canonical;
    if (!IsSidecar()) {
      EXPECT_NE(l.record.exe.find("audit_abi_tests"), std::string::npos) << l.canonical;
    }
    EXPECT_TRUE(l.record.slot.has_value()) << l.canonical;
    EXPECT_GT(l.record.time_us, 0) << l.canonical;
  }
  audit::Record init = Find(recs, "C_InitToken", "CKR_OK");
  EXPECT_EQ(init.detail, std::string("label ") + kTokenLabel);
  audit::Record so = Find(recs, "C_Login", "CKR_OK");
  EXPECT_EQ(so.detail, "user CKU_SO");
  EXPECT_EQ(so.token, kTokenLabel);
  EXPECT_EQ(so.serial.size(), 16u);
  EXPECT_TRUE(so.session.has_value());
  Find(recs, "C_InitPIN", "CKR_OK");
  EXPECT_EQ(Find(recs, "C_Login", "CKR_PIN_INCORRECT").detail, "user CKU_USER");
  Find(recs, "C_Login", "CKR_PIN_LOCKED");  // the lockout
  Find(recs, "C_SetPIN", "CKR_OK");
  Find(recs, "C_Logout", "CKR_OK");
  audit::Record created = Find(recs, "C_CreateObject", "CKR_OK");
  EXPECT_EQ(created.object_class, "CKO_DATA");
  EXPECT_EQ(created.object_label, "audit-data");
  EXPECT_FALSE(created.object_id.empty());
  EXPECT_EQ(Find(recs, "C_CopyObject", "CKR_OK").object_label, "audit-data");
  EXPECT_EQ(Find(recs, "C_SetAttributeValue", "CKR_OK").object_label, "audit-data");  // as it was
  EXPECT_EQ(Find(recs, "C_DestroyObject", "CKR_OK").object_label, "audit-data-2");
  audit::Record gk = Find(recs, "C_GenerateKey", "CKR_OK");
  EXPECT_EQ(gk.mechanism, "CKM_AES_KEY_GEN");
  EXPECT_EQ(gk.object_class, "CKO_SECRET_KEY");
  EXPECT_EQ(gk.object_label, "audit-aes");
  audit::Record kp = Find(recs, "C_GenerateKeyPair", "CKR_OK");
  EXPECT_EQ(kp.mechanism, "CKM_EC_KEY_PAIR_GEN");
  EXPECT_EQ(kp.object_class, "CKO_PRIVATE_KEY");
  audit::Record si = Find(recs, "C_SignInit", "CKR_OK");
  EXPECT_EQ(si.mechanism, "CKM_ECDSA_SHA256");
  EXPECT_EQ(si.object_class, "CKO_PRIVATE_KEY");
  EXPECT_EQ(si.object_label, "audit-p256");
  EXPECT_EQ(si.object_id, kp.object_id);
  EXPECT_EQ(Find(recs, "C_VerifyInit", "CKR_OK").object_class, "CKO_PUBLIC_KEY");
  EXPECT_EQ(Find(recs, "C_EncryptInit", "CKR_OK").mechanism, "CKM_AES_CBC_PAD");
  EXPECT_EQ(Find(recs, "C_DecryptInit", "CKR_OK").object_label, "audit-aes");
  EXPECT_EQ(Find(recs, "C_DigestKey", "CKR_OK").object_class, "CKO_SECRET_KEY");
  audit::Record wrap = Find(recs, "C_WrapKey", "CKR_OK");
  EXPECT_EQ(wrap.mechanism, "CKM_AES_KEY_WRAP");
  EXPECT_EQ(wrap.object_id, gk.object_id) << "the wrapped key";
  EXPECT_EQ(Find(recs, "C_UnwrapKey", "CKR_OK").object_label, "audit-unwrapped");
  audit::Record derive = Find(recs, "C_DeriveKey", "CKR_OK");
  EXPECT_EQ(derive.mechanism, "CKM_AES_ECB_ENCRYPT_DATA");
  EXPECT_EQ(derive.object_label, "audit-derived");
  // The hot single-part calls leave no record when they succeed.
  for (const auto& l : recs) EXPECT_NE(l.record.function, "C_Sign") << l.canonical;
  // The log verifies, ends with a signed checkpoint, and names the key kept in the token.
  auto files = audit::audit_files({file_});
  ASSERT_TRUE(files.ok());
  audit::VerifyReport r = audit::verify(*files, {});
  EXPECT_TRUE(r.ok()) << r.problem->message;
  EXPECT_GE(r.signed_checkpoints, 1u);
}

TEST_F(AuditTest, NoPinKeyByteDataOrSignatureReachesTheLog) {
  ASSERT_NO_FATAL_FAILURE(RunEverything());
  std::ifstream in(file_);
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(log.size(), 1000u);
  const std::vector<std::string> secrets = {kSoPin,
                                            kUserPin,
                                            kNewUserPin,
                                            "wrong-pin-1",
                                            "wrong-pin-4",
                                            kData,
                                            std::string(kAesValue.begin(), kAesValue.end()),
                                            Hex(kAesValue),
                                            Hex(kAesValue, true),
                                            Hex(signature_).substr(0, 16),
                                            Hex(wrapped_).substr(0, 16)};
  for (const auto& s : secrets) EXPECT_EQ(log.find(s), std::string::npos) << "the log holds a secret: " << s;
}

TEST_F(AuditTest, TamperingIsNamedByVerifyAndTheCli) {
  ASSERT_NO_FATAL_FAILURE(RunEverything());
  const auto lines = Lines();
  ASSERT_GT(lines.size(), 20u);
  std::string err;
  ASSERT_EQ(RunCli({"audit", "verify", file_}, &err), 0) << err;
  auto put = [&](const std::vector<std::string>& v) {
    std::ofstream out(file_, std::ios::trunc);
    for (const auto& l : v) out << l << "\n";
  };
  auto check = [&]() {
    auto files = audit::audit_files({file_});
    return audit::verify(*files, {});
  };
  // A spread of byte positions on every line: the changed line is named.
  for (size_t li = 0; li < lines.size(); ++li) {
    for (size_t off : {size_t{0}, lines[li].size() / 3, lines[li].size() / 2, lines[li].size() - 2}) {
      auto v = lines;
      v[li][off] = static_cast<char>(v[li][off] ^ 0x04);
      put(v);
      auto r = check();
      ASSERT_FALSE(r.ok()) << "line " << li + 1 << " byte " << off;
      EXPECT_EQ(r.problem->line, li + 1) << "line " << li + 1 << " byte " << off << ": " << r.problem->message;
    }
  }
  // Every one line removed: the record named by its seq.
  for (size_t li = 0; li < lines.size(); ++li) {
    auto v = lines;
    v.erase(v.begin() + static_cast<long>(li));
    put(v);
    auto r = check();
    ASSERT_FALSE(r.ok()) << "line " << li + 1 << " removed";
    const uint64_t seq = audit::decode_line(lines[li])->seq;
    EXPECT_EQ(r.problem->seq, li + 1 == lines.size() ? seq - 1 : seq) << r.problem->message;
  }
  // The CLI says so too, with a non-zero exit and the file, line and seq.
  {
    auto v = lines;
    v[5][v[5].size() / 2] ^= 0x04;
    put(v);
    EXPECT_EQ(RunCli({"audit", "verify", file_}, &err), 6);
    EXPECT_NE(err.find(file_ + ":6 (seq 5)"), std::string::npos) << err;
    v = lines;
    v.erase(v.begin() + 7);
    put(v);
    EXPECT_EQ(RunCli({"audit", "verify", file_}, &err), 6);
    EXPECT_NE(err.find("deleted"), std::string::npos) << err;
    EXPECT_NE(err.find("seq 7"), std::string::npos) << err;
  }
}

TEST_F(AuditTest, RequiredModeWritesBeforeItReturns) {
  CK_SLOT_ID slot = InitToken();
  ASSERT_NE(slot, kNoSlot);
  StoreOptions o = Options();
  o.extra_config = AuditToml(file_, true);
  store_->WriteConfig(o);
  Reinitialize();
  CK_SESSION_HANDLE s = OpenUser(slot);
  KeyPair ec = GenerateEc(f_, s, "P-256");
  ASSERT_CKR_OK(ec.rv);
  CK_MECHANISM ecdsa{CKM_ECDSA_SHA256, nullptr, 0};
  ASSERT_CKR_OK(f_->C_SignInit(s, &ecdsa, ec.priv));
  // Still inside the application: the records are in the file already (durable).
  auto recs = Records();
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back().record.function, "C_SignInit");
  bool intent = false;
  for (const auto& l : Lines()) intent |= audit::decode_line(l)->kind == "intent";
  EXPECT_TRUE(intent) << "a state change writes its intent first in required mode";
}

TEST_F(AuditTest, RequiredModeWithAnUnwritableSinkFailsAndDoesNothing) {
  CK_SLOT_ID slot = InitToken();
  ASSERT_NE(slot, kNoSlot);
  StoreOptions o = Options();
  o.extra_config = AuditToml("/dev/full", true);  // opens, takes no byte: a full disk
  store_->WriteConfig(o);
  Reinitialize();
  CK_SESSION_HANDLE s = Open(slot);
  EXPECT_CKR(CKR_FUNCTION_FAILED, Login(s, CKU_USER, kUserPin));
  EXPECT_NE(SessionState(s), CKS_RW_USER_FUNCTIONS) << "the login did not happen";
  Template t = Template().Ulong(CKA_CLASS, CKO_DATA).Str(CKA_LABEL, "unaudited").Bool(CKA_TOKEN, true);
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_FUNCTION_FAILED, f_->C_CreateObject(s, t.data(), t.size(), &h));
  EXPECT_TRUE(abi::Find(f_, s, Template().Str(CKA_LABEL, "unaudited")).empty()) << "nothing was created";
  // A token cannot be re-initialised unaudited either: its label stays.
  std::string so(kSoPin);
  std::string label = Padded("other-label", 32);
  EXPECT_CKR(CKR_FUNCTION_FAILED, f_->C_CloseAllSessions(slot) == CKR_OK
                                      ? f_->C_InitToken(slot, U8(so), so.size(), U8(label))
                                      : CKR_GENERAL_ERROR);
  CK_TOKEN_INFO ti = TokenInfo(slot);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(ti.label), 32), Padded(kTokenLabel, 32));
}

TEST_F(AuditTest, RequiredModeWithAMissingDirectoryRefusesToStart) {
  StoreOptions o = Options();
  o.extra_config = AuditToml((dir_ / "missing" / "audit.jsonl").string(), true);
  store_->WriteConfig(o);
  ASSERT_CKR_OK(f_->C_Finalize(nullptr));
  ForgetInitialized();
  EXPECT_CKR(CKR_FUNCTION_FAILED, f_->C_Initialize(nullptr));
}

}  // namespace
}  // namespace ferrohsm::abi
