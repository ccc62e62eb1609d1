// The registry: starting, finding, routing, telemetry and stopping.
#include <ferrohsm/client/registry.h>

#include "support/fixtures.h"

using namespace fhc_test;

namespace {
class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { prepare_token(module_path()); }
};

TEST_F(RegistryTest, StartsWorkersAndFindsThemByIndex) {
  fc::Registry reg;
  auto pool = slot_config("pool", module_path());
  pool.type = fc::SlotType::pool;
  pool.session_pool_size = 3;
  ASSERT_TRUE(reg.start({slot_config("tok", module_path()), pool}).ok());
  for (int i = 1; i <= 3; ++i) {
    auto w = reg.find("pool", i);
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->worker_index(), i);
    EXPECT_EQ(w->status(), fc::SlotState::open);
  }
  EXPECT_EQ(reg.find("pool", 4), nullptr);
  EXPECT_EQ(reg.find("tok", 2), nullptr);
  EXPECT_NE(reg.find("tok", 1), nullptr);
  auto cfg = reg.slot_config("pool");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ((*cfg)->keys.at("signer"), "rsa-key");
  EXPECT_EQ(reg.slot_config("none").error().kind, fc::ErrorKind::unknown_slot);
  reg.stop_all();
  EXPECT_EQ(reg.find("pool", 1), nullptr);
}

TEST_F(RegistryTest, RoutesRoundRobinAndEmitsTelemetry) {
  auto rec = std::make_shared<Recorder>();
  auto telemetry = std::make_shared<fc::Telemetry>();
  telemetry->add_sink(rec);
  fc::Registry reg(telemetry);
  auto pool = slot_config("pool", module_path());
  pool.type = fc::SlotType::pool;
  pool.session_pool_size = 3;
  ASSERT_TRUE(reg.start({pool}).ok());
  ASSERT_TRUE(reg.login("pool", fc::Secret(kUserPin)).ok());
  for (int i = 0; i < 6; ++i) {
    auto sig = reg.sign("pool", "ec", kDigest, mech(CKM_ECDSA));
    ASSERT_TRUE(sig.ok()) << sig.error().message;
  }
  std::map<int, int> per_worker;
  {
    std::lock_guard lock(rec->mu);
    for (const auto& e : rec->events) {
      if (e.name == "slot.sign") {
        ++per_worker[e.worker_index];
        EXPECT_EQ(e.mechanism, "CKM_ECDSA");
        EXPECT_EQ(e.slot_ref, "pool");
        EXPECT_EQ(e.result, "ok");
        EXPECT_GT(e.duration.count(), 0);
      }
    }
  }
  EXPECT_EQ(per_worker, (std::map<int, int>{{1, 2}, {2, 2}, {3, 2}}));
  EXPECT_EQ(rec->count("slot.login", "ok"), 1);
}

TEST_F(RegistryTest, AFailedStartStopsWhatStartedAndNamesTheSlot) {
  fc::Registry reg;
  auto bad = slot_config("bad", module_path(), "no-such-token");
  auto r = reg.start({slot_config("good", module_path()), bad});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("slot 'bad'"), std::string::npos) << r.error().message;
  EXPECT_EQ(reg.find("good", 1), nullptr);
}

TEST_F(RegistryTest, UnknownSlotAndDuplicateSlot) {
  fc::Registry reg;
  EXPECT_EQ(reg.sign("x", "k", kData, mech(CKM_ECDSA)).error().kind, fc::ErrorKind::unknown_slot);
  auto r = reg.start({slot_config("a", module_path()), slot_config("a", module_path())});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("configured twice"), std::string::npos);
}

TEST_F(RegistryTest, RestartReplacesAWorker) {
  fc::Registry reg;
  ASSERT_TRUE(reg.start({slot_config("a", module_path())}).ok());
  auto before = reg.find("a", 1);
  ASSERT_TRUE(reg.restart("a", 1).ok());
  auto after = reg.find("a", 1);
  EXPECT_NE(before, after);
  EXPECT_EQ(before->status(), fc::SlotState::terminated);
  EXPECT_EQ(after->status(), fc::SlotState::open);
  EXPECT_EQ(reg.restarts(), 1u);
}
}  // namespace
