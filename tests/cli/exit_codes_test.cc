#include "exit_codes.h"
#include "output.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace ferrohsm::cli {
namespace {

TEST(ExitCodes, TableMapsEachClass) {
  EXPECT_EQ(exit_code_for(CKR_OK), 0);
  EXPECT_EQ(exit_code_for(CKR_ARGUMENTS_BAD), 2);
  for (CK_RV pin : {CKR_PIN_INCORRECT, CKR_PIN_LOCKED, CKR_PIN_LEN_RANGE, CKR_PIN_INVALID, CKR_PIN_EXPIRED,
                    CKR_USER_PIN_NOT_INITIALIZED})
    EXPECT_EQ(exit_code_for(pin), 3) << pin;
  for (CK_RV nf : {CKR_SLOT_ID_INVALID, CKR_TOKEN_NOT_PRESENT, CKR_TOKEN_NOT_RECOGNIZED, CKR_OBJECT_HANDLE_INVALID,
                   CKR_KEY_HANDLE_INVALID})
    EXPECT_EQ(exit_code_for(nf), 4) << nf;
  for (CK_RV other : {CKR_MECHANISM_INVALID, CKR_DEVICE_ERROR, CKR_SESSION_EXISTS, CKR_TEMPLATE_INCONSISTENT,
                      CKR_CURVE_NOT_SUPPORTED, CKR_GENERAL_ERROR})
    EXPECT_EQ(exit_code_for(other), 5) << other;
  EXPECT_EQ(exit_code_for(CKR_SIGNATURE_INVALID), 7);  // `verify`: the signature does not match
}

TEST(Output, FailurePrintsOneLineWithTheCodeName) {
  std::ostringstream out, err;
  Output o(false, out, err);
  int code = o.fail(context("key list", make_error(CKR_PIN_INCORRECT, "log in as user: incorrect PIN")));
  EXPECT_EQ(code, 3);
  EXPECT_EQ(err.str(), "ferrohsm: key list: log in as user: incorrect PIN (CKR_PIN_INCORRECT)\n");
  EXPECT_EQ(out.str(), "");
}

TEST(Output, JsonModeAddsAnErrorDocument) {
  std::ostringstream out, err;
  Output o(true, out, err);
  int code = o.fail(make_error(CKR_TOKEN_NOT_PRESENT, "no token 'x'"));
  EXPECT_EQ(code, 4);
  auto doc = nlohmann::json::parse(out.str());
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["rv"], "CKR_TOKEN_NOT_PRESENT");
  EXPECT_EQ(doc["exit_code"], 4);
  EXPECT_EQ(doc["error"], "no token 'x'");
}

TEST(Output, HumanLinesAreDroppedInJsonMode) {
  std::ostringstream out, err;
  Output o(true, out, err);
  o.line("people only");
  o.doc()["n"] = 2;
  EXPECT_EQ(o.finish(), 0);
  EXPECT_EQ(out.str().find("people only"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(out.str())["n"], 2);
}

}  // namespace
}  // namespace ferrohsm::cli
