// SlotServer::run / Registry::run: a caller's own work on a worker's session, with the
// PIN chain and the recovery ladder of sign(), driven through the fault-injecting module.
#include <ferrohsm/client/names.h>
#include <ferrohsm/client/registry.h>

#include <set>

#include "support/fixtures.h"

using namespace fhc_test;

namespace {

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prepare_token(fault_module_path());
    telemetry->add_sink(rec);
  }
  fc::SlotConfig config(fc::ReauthPolicy policy = fc::ReauthPolicy::prompt, int workers = 1) {
    auto c = slot_config("faulty", fault_module_path());
    c.pin_callback = pin.callback();
    c.reauthentication = policy;
    if (workers > 1) {
      c.type = fc::SlotType::pool;
      c.session_pool_size = workers;
    }
    return c;
  }
  // The caller's op: finds the EC private key by a label it computes itself (not a
  // configured key ref) and signs the digest with it.
  fc::SlotServer::SessionOp sign_with(const std::string& label, fc::Bytes& out) {
    return [this, label, &out](fc::Session& session) -> fc::Status {
      ++runs;
      CK_OBJECT_CLASS klass = CKO_PRIVATE_KEY;
      CK_ATTRIBUTE templ[] = {{CKA_CLASS, &klass, sizeof klass},
                              {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
      FH_ASSIGN_OR_RETURN(auto found, session.find(templ, 2));
      if (found.size() != 1) return fc::Error{fc::ErrorKind::key_not_found, CKR_OK, "no key " + label};
      FH_ASSIGN_OR_RETURN(out, session.sign(mech(CKM_ECDSA), found.front(), kDigest));
      return {};
    };
  }
  bool verifies(const fc::Bytes& sig) {
    return verify_with_token(fault_module_path(), "client-test", "ec-key", CKM_ECDSA, kDigest, sig);
  }

  int runs = 0;
  CountingPin pin;
  std::shared_ptr<Recorder> rec = std::make_shared<Recorder>();
  std::shared_ptr<fc::Telemetry> telemetry = std::make_shared<fc::Telemetry>();
};


TEST_F(RunTest, RunsOnALoggedInWorkerRoundRobinWithOneLogin) {
  fc::Registry reg(telemetry);
  ASSERT_TRUE(reg.start({config(fc::ReauthPolicy::prompt, 2)}).ok());
  for (int i = 0; i < 4; ++i) {
    fc::Bytes sig;
    auto s = reg.run("faulty", "ec-sign", sign_with("ec-key", sig));
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_TRUE(verifies(sig));
  }
  EXPECT_EQ(runs, 4);
  EXPECT_EQ(*pin.calls, 1);  // the PIN chain once; worker 2 uses the token's login
  std::set<int> workers;
  {
    std::lock_guard lock(rec->mu);
    for (const auto& e : rec->events) {
      if (e.name != "slot.run") continue;
      workers.insert(e.worker_index);
      EXPECT_EQ(e.mechanism, "ec-sign");
      EXPECT_EQ(e.result, "ok");
    }
  }
  EXPECT_EQ(workers, (std::set<int>{1, 2}));
  fc::Bytes unused;
  EXPECT_EQ(reg.run("nowhere", "x", sign_with("ec-key", unused)).error().kind, fc::ErrorKind::unknown_slot);
}

TEST_F(RunTest, ModuleErrorsClimbTheLadderAndTheOpRunsAgain) {
  fc::Registry reg(telemetry);
  ASSERT_TRUE(reg.start({config()}).ok());
  ASSERT_TRUE(reg.login("faulty").ok());
  fault_reset();
  fault_set("close_session_every", 3);
  fault_set("logout_every", 5);
  for (int i = 0; i < 8; ++i) {
    fc::Bytes sig;
    auto s = reg.run("faulty", "ec-sign", sign_with("ec-key", sig));
    ASSERT_TRUE(s.ok()) << i << ": " << s.error().message;
    EXPECT_TRUE(verifies(sig));
  }
  EXPECT_GT(fault_get("faults"), 0);
  EXPECT_EQ(runs, 8 + fault_get("faults"));  // one extra run per injected fault
  EXPECT_GE(rec->count("slot.recover", "ok", "reopen_session"), 1);
  EXPECT_GE(rec->count("slot.recover", "ok", "reauthenticate"), 1);
  EXPECT_EQ(rec->count("slot.run", "ok"), 8);
  EXPECT_EQ(fault_get("open_sessions"), 1);
}

TEST_F(RunTest, FailPolicyReportsReauthRequiredWithoutAskingForAPin) {
  fc::Registry reg(telemetry);
  ASSERT_TRUE(reg.start({config(fc::ReauthPolicy::fail)}).ok());
  ASSERT_TRUE(reg.login("faulty").ok());
  int asked = *pin.calls;
  fault_set("logout_every", 1);
  fc::Bytes sig;
  auto s = reg.run("faulty", "ec-sign", sign_with("ec-key", sig));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, fc::ErrorKind::reauth_required);
  EXPECT_EQ(*pin.calls, asked);
  EXPECT_EQ(rec->count("slot.run", "CKR_USER_NOT_LOGGED_IN"), 1);  // the result names the code, as for slot.sign
}

TEST_F(RunTest, TheCallersOwnErrorsAreFinalAndRunOnce) {
  fc::Registry reg(telemetry);
  ASSERT_TRUE(reg.start({config()}).ok());
  fc::Bytes sig;
  auto s = reg.run("faulty", "ec-sign", sign_with("no-such-label", sig));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, fc::ErrorKind::key_not_found);
  EXPECT_NE(s.error().message.find("slot 'faulty' worker 1"), std::string::npos) << s.error().message;
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(rec->count("slot.recover"), 0);
}

TEST_F(RunTest, WithoutNeedsLoginThePinChainIsNotAsked) {
  fc::Registry reg(telemetry);
  ASSERT_TRUE(reg.start({config()}).ok());
  std::optional<bool> seen;
  auto s = reg.run(
      "faulty", "peek",
      [&](fc::Session& session) -> fc::Status {
        FH_ASSIGN_OR_RETURN(bool logged_in, session.logged_in());
        seen = logged_in;
        return {};
      },
      /*needs_login=*/false);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE(seen.has_value());
  EXPECT_FALSE(*seen);
  EXPECT_EQ(*pin.calls, 0);
}
}  // namespace
