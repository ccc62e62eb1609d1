// Module and Session against the module under test.
#include <ferrohsm/client/module.h>
#include <ferrohsm/client/names.h>

#include "support/fixtures.h"

using namespace fhc_test;

TEST(Module, LoadsInitialisesOnceAndIsShared) {
  store_dir();
  auto a = fc::Module::load(module_path());
  ASSERT_TRUE(a.ok()) << a.error().message;
  auto b = fc::Module::load(module_path());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_NE((*a)->functions(), nullptr);
  // SoftHSMv2 has no C_GetInterface; FerroHSM's 3.0 library has.
  if (std::string(module_kind()) == "ferrohsm") {
    EXPECT_TRUE((*a)->via_interface());
    EXPECT_EQ((*a)->version().major, 3);
  } else {
    EXPECT_FALSE((*a)->via_interface());
  }
}

TEST(Module, MissingLibraryIsALoadError) {
  auto m = fc::Module::load("/nonexistent/libnothing.so");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().kind, fc::ErrorKind::load);
  EXPECT_NE(m.error().message.find("/nonexistent/libnothing.so"), std::string::npos);
}

TEST(Module, ErrorsNameTheReturnCode) {
  prepare_token(module_path());
  auto m = fc::Module::load(module_path());
  ASSERT_TRUE(m.ok());
  auto slot = (*m)->find_token("client-test");
  ASSERT_TRUE(slot.ok()) << slot.error().message;
  auto s = (*m)->open_session(*slot, false);
  ASSERT_TRUE(s.ok());
  auto bad = s->login(CKU_USER, fc::Secret("000000"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.rv(), CKR_PIN_INCORRECT);
  EXPECT_EQ(bad.error().kind, fc::ErrorKind::pin_incorrect);
  EXPECT_NE(bad.error().message.find("CKR_PIN_INCORRECT"), std::string::npos);
  EXPECT_EQ(bad.error().message.find("000000"), std::string::npos);  // no PIN in messages
  auto missing = (*m)->find_token("no-such-token");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.rv(), CKR_TOKEN_NOT_PRESENT);
}

TEST(Module, SessionIsClosedWhenDropped) {
  prepare_token(module_path());
  auto m = fc::Module::load(module_path());
  ASSERT_TRUE(m.ok());
  auto slot = (*m)->find_token("client-test");
  ASSERT_TRUE(slot.ok());
  CK_SESSION_HANDLE h;
  {
    auto s = (*m)->open_session(*slot, false);
    ASSERT_TRUE(s.ok());
    h = s->handle();
    CK_SESSION_INFO info{};
    EXPECT_EQ((*m)->functions()->C_GetSessionInfo(h, &info), CKR_OK);
  }
  CK_SESSION_INFO info{};
  EXPECT_EQ((*m)->functions()->C_GetSessionInfo(h, &info), CKR_SESSION_HANDLE_INVALID);
}
