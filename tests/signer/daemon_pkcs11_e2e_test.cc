// The daemon end to end with --key-provider=pkcs11, on SoftHSMv2 or FerroHSM's own
// module (one executable per module): the same curl commands as on the software
// provider — generate, sign, rotation open/activate/close — every signature verified
// with the openssl CLI against the published PEM; then the token is inspected.
#include <ferrohsm/client/module.h>
#include <ferrohsm/client/session.h>

#include <set>

#include "base/bytes.h"
#include "base/base64.h"
#include "support/daemon_driver.h"
#include "support/test_token.h"

namespace ferrohsm::signer::testing {
namespace {

using nlohmann::json;

class DaemonPkcs11 : public ::testing::Test {
 protected:
  void SetUp() override {
    token_ = create_test_token(dir_);  // also sets SOFTHSM2_CONF / FERROHSM_CONF for the daemon
    if (!token_.error.empty()) FAIL() << token_.error;  // a missing module fails, it is not skipped
    token_.module.reset();  // the daemon has the token to itself
  }
  std::vector<std::string> args(const std::string& label) const {
    return {"--key-provider=pkcs11", "--pkcs11-module", token_.module_path, "--pkcs11-slot",
            std::to_string(token_.slot), "--pkcs11-pin-file", token_.pin_file, "--pkcs11-label", label};
  }
  // The labels of the token's objects of one class, read through a fresh load of the module.
  std::set<std::string> labels(CK_OBJECT_CLASS cls) {
    std::set<std::string> out;
    auto module = client::Module::load(token_.module_path);
    EXPECT_TRUE(module) << module.error().message;
    if (!module) return out;
    auto session = (*module)->open_session(token_.slot, false);
    EXPECT_TRUE(session && session->login(CKU_USER, client::Secret(kTokenUserPin)));
    if (!session) return out;
    CK_ATTRIBUTE templ[] = {{CKA_CLASS, &cls, sizeof cls}};
    auto found = session->find(templ, 64);
    EXPECT_TRUE(found);
    if (!found) return out;
    for (auto h : *found) {
      auto label = session->attribute(h, CKA_LABEL);
      if (label) out.insert(std::string(label->begin(), label->end()));
    }
    return out;
  }

  TempDir dir_;
  TestToken token_;
};

TEST_F(DaemonPkcs11, SameCommandsRotateAndOpensslVerifies) {
  std::string first, second;
  {
    Daemon daemon(FERROHSM_SIGNER_BIN, dir_, args("e2e"));
    ASSERT_TRUE(daemon.up()) << daemon.log();
    auto live = daemon.curl_json("GET", "/livez", 200, "");
    EXPECT_EQ(live["provider"], "pkcs11");
    EXPECT_EQ(live["dev_only"], false);
    std::tie(first, second) = rotate_and_verify(daemon, dir_, "pkcs11:e2e:payments:");
    auto jwks = daemon.curl_json("GET", "/v1/scopes/payments/jwks", 200, "");
    ASSERT_EQ(jwks["keys"].size(), 1u);
    EXPECT_EQ(jwks["keys"][0]["kid"], second);
    EXPECT_EQ(daemon.stop(), 0);
    std::string log = daemon.log();
    EXPECT_EQ(log.find("dev-only"), std::string::npos) << log;
    EXPECT_EQ(log.find(kTokenUserPin), std::string::npos) << log;  // the PIN never reaches the log
  }
  ASSERT_FALSE(HasFailure());

  // A new daemon on the same state and token signs with the active key.
  {
    Daemon again(FERROHSM_SIGNER_BIN, dir_, args("e2e"));
    ASSERT_TRUE(again.up()) << again.log();
    EXPECT_EQ(sign_and_verify_with_openssl(again, dir_, "payments", "after restart"), second);
    EXPECT_EQ(again.stop(), 0);
  }

  // The token holds both halves under <label>:<scope>:<key_id>; the retired key's private half is gone.
  auto publics = labels(CKO_PUBLIC_KEY);
  auto privates = labels(CKO_PRIVATE_KEY);
  EXPECT_TRUE(publics.contains("e2e:payments:" + first));
  EXPECT_TRUE(publics.contains("e2e:payments:" + second));
  EXPECT_FALSE(privates.contains("e2e:payments:" + first));
  EXPECT_TRUE(privates.contains("e2e:payments:" + second));
}

TEST_F(DaemonPkcs11, AWrongPinStopsTheStartAndIsNeverEchoed) {
  // Not digits alone: "9999" was once found in the log as the process id (ferrohsm[9999]).
  std::string wrong = "Wr0ng-Pin-q7Zk";
  write_file(dir_.file("wrong-pin"), as_bytes(wrong));
  auto a = args("e2e");
  a[6] = dir_.file("wrong-pin");
  std::vector<std::string> argv = {FERROHSM_SIGNER_BIN, "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), a.begin(), a.end());
  auto r = run_command(argv, std::chrono::seconds(20), {{"XDG_DATA_HOME", dir_.file("xdg")}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("CKR_PIN_INCORRECT"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(wrong), std::string::npos) << r.err;
}

TEST_F(DaemonPkcs11, DevOnlyPinFlagWarnsAndWorks) {
  auto a = args("dev");
  a.erase(a.begin() + 5, a.begin() + 7);  // no --pkcs11-pin-file
  a.insert(a.end(), {"--pkcs11-pin", kTokenUserPin});
  Daemon daemon(FERROHSM_SIGNER_BIN, dir_, a);
  ASSERT_TRUE(daemon.up()) << daemon.log();
  daemon.curl_json("POST", "/v1/scopes/dev/keys", 201);
  sign_and_verify_with_openssl(daemon, dir_, "dev", "dev pin");
  EXPECT_EQ(daemon.stop(), 0);
  std::string log = daemon.log();
  EXPECT_NE(log.find("--pkcs11-pin puts the PIN on the command line: for local development only"), std::string::npos)
      << log;
  EXPECT_EQ(log.find(kTokenUserPin), std::string::npos) << log;
}

TEST_F(DaemonPkcs11, AModuleThatCannotBeLoadedStopsTheStart) {
  // The start fails with exit code 2 naming the library, and never falls back to software.
  auto a = args("e2e");
  a[2] = "/nonexistent/libnothing.so";
  std::vector<std::string> argv = {FERROHSM_SIGNER_BIN, "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), a.begin(), a.end());
  auto r = run_command(argv, std::chrono::seconds(20), {{"XDG_DATA_HOME", dir_.file("xdg")}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/libnothing.so"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("dev-only"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ferrohsm::signer::testing
