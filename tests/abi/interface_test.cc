// C_GetFunctionList / C_GetInterfaceList / C_GetInterface (PKCS#11 3.0 §5.4).
#include <cstring>
#include <string>

#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

class InterfaceTest : public ModuleTest {
 protected:
  void SetUp() override {
    SKIP_IF_SOFTHSM("SoftHSMv2 2.6 implements PKCS#11 2.40 only (no C_GetInterface)");
    ModuleTest::SetUp();
    ASSERT_NE(GetModule().get_interface_list, nullptr) << "C_GetInterfaceList not exported";
    ASSERT_NE(GetModule().get_interface, nullptr) << "C_GetInterface not exported";
    list_ = GetModule().get_interface_list;
    get_ = GetModule().get_interface;
  }
  CK_C_GetInterfaceList list_ = nullptr;
  CK_C_GetInterface get_ = nullptr;
};

CK_VERSION VersionOf(const CK_INTERFACE* iface) {
  return *static_cast<const CK_VERSION*>(iface->pFunctionList);
}

// Every entry of a function list (after its CK_VERSION) must be a callable pointer.
template <typename List>
void ExpectAllEntriesSet(const List* list) {
  using Fn = CK_RV (*)();
  size_t offset = (sizeof(CK_VERSION) + alignof(Fn) - 1) / alignof(Fn) * alignof(Fn);
  size_t count = (sizeof(List) - offset) / sizeof(Fn);
  for (size_t i = 0; i < count; ++i) {
    Fn fn = nullptr;
    std::memcpy(&fn, reinterpret_cast<const unsigned char*>(list) + offset + i * sizeof(Fn),
                sizeof fn);
    EXPECT_NE(fn, nullptr) << "function list entry " << i << " is NULL";
  }
}

TEST(FunctionListTest, ReportsVersion240AndIsComplete) {
  const Module& m = GetModule();
  CK_FUNCTION_LIST_PTR list = nullptr;
  ASSERT_CKR_OK(m.fl->C_GetFunctionList(&list));
  EXPECT_EQ(list->version.major, 2);
  EXPECT_EQ(list->version.minor, 40);
  EXPECT_CKR(CKR_ARGUMENTS_BAD, m.fl->C_GetFunctionList(nullptr));
  ExpectAllEntriesSet(list);
}

TEST_F(InterfaceTest, ListOffersPkcs11V30AndV240) {
  CK_ULONG count = 0;
  ASSERT_CKR_OK(list_(nullptr, &count));
  ASSERT_GE(count, 2u);
  std::vector<CK_INTERFACE> ifaces(count);
  ASSERT_CKR_OK(list_(ifaces.data(), &count));
  bool v30 = false, v240 = false;
  for (CK_ULONG i = 0; i < count; ++i) {
    ASSERT_NE(ifaces[i].pInterfaceName, nullptr);
    ASSERT_NE(ifaces[i].pFunctionList, nullptr);
    std::string name(reinterpret_cast<const char*>(ifaces[i].pInterfaceName));
    CK_VERSION v = VersionOf(&ifaces[i]);
    if (name == "PKCS 11" && v.major == 3 && v.minor == 0) v30 = true;
    if (name == "PKCS 11" && v.major == 2 && v.minor == 40) v240 = true;
  }
  EXPECT_TRUE(v30) << "no \"PKCS 11\" 3.0 interface";
  EXPECT_TRUE(v240) << "no \"PKCS 11\" 2.40 interface";
}

TEST_F(InterfaceTest, ListLengthQueryAndShortBuffer) {
  CK_ULONG count = 0;
  ASSERT_CKR_OK(list_(nullptr, &count));
  ASSERT_GE(count, 2u);
  std::vector<CK_INTERFACE> ifaces(count);
  CK_ULONG short_count = count - 1;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, list_(ifaces.data(), &short_count));
  EXPECT_EQ(short_count, count) << "CKR_BUFFER_TOO_SMALL must report the needed count";
  EXPECT_CKR(CKR_ARGUMENTS_BAD, list_(nullptr, nullptr));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, list_(ifaces.data(), nullptr));
}

TEST_F(InterfaceTest, WorksBeforeInitialize) {
  ASSERT_CKR_OK(f_->C_Finalize(nullptr));
  ForgetInitialized();
  CK_ULONG count = 0;
  EXPECT_CKR_OK(list_(nullptr, &count));
  CK_INTERFACE_PTR iface = nullptr;
  EXPECT_CKR_OK(get_(nullptr, nullptr, &iface, 0));
  EXPECT_NE(iface, nullptr);
}

TEST_F(InterfaceTest, GetByNameAndVersion) {
  CK_UTF8CHAR name[] = "PKCS 11";
  CK_INTERFACE_PTR iface = nullptr;
  CK_VERSION v30{3, 0};
  ASSERT_CKR_OK(get_(name, &v30, &iface, 0));
  ASSERT_NE(iface, nullptr);
  CK_VERSION got = VersionOf(iface);
  EXPECT_EQ(got.major, 3);
  EXPECT_EQ(got.minor, 0);
  ExpectAllEntriesSet(static_cast<CK_FUNCTION_LIST_3_0*>(iface->pFunctionList));

  CK_VERSION v240{2, 40};
  iface = nullptr;
  ASSERT_CKR_OK(get_(name, &v240, &iface, 0));
  ASSERT_NE(iface, nullptr);
  got = VersionOf(iface);
  EXPECT_EQ(got.major, 2);
  EXPECT_EQ(got.minor, 40);
  ExpectAllEntriesSet(static_cast<CK_FUNCTION_LIST*>(iface->pFunctionList));

  iface = nullptr;
  ASSERT_CKR_OK(get_(name, nullptr, &iface, 0)) << "name without version";
  EXPECT_NE(iface, nullptr);
}

TEST_F(InterfaceTest, NullNameGivesTheDefaultInterface) {
  CK_INTERFACE_PTR iface = nullptr;
  ASSERT_CKR_OK(get_(nullptr, nullptr, &iface, 0));
  ASSERT_NE(iface, nullptr);
  ASSERT_NE(iface->pFunctionList, nullptr);
  EXPECT_STREQ(reinterpret_cast<const char*>(iface->pInterfaceName), "PKCS 11");
}

TEST_F(InterfaceTest, UnknownNameOrVersionIsArgumentsBad) {
  CK_UTF8CHAR unknown[] = "Vendor Nonexistent";
  CK_INTERFACE_PTR iface = nullptr;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, get_(unknown, nullptr, &iface, 0));
  CK_UTF8CHAR name[] = "PKCS 11";
  CK_VERSION v99{9, 9};
  EXPECT_CKR(CKR_ARGUMENTS_BAD, get_(name, &v99, &iface, 0));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, get_(name, nullptr, nullptr, 0));
}

TEST_F(InterfaceTest, V30ListFunctionsWorkOnTheSameLibrary) {
  CK_FUNCTION_LIST_3_0_PTR fl3 = GetModule().fl3;
  ASSERT_NE(fl3, nullptr);
  CK_INFO info{};
  EXPECT_CKR_OK(fl3->C_GetInfo(&info)) << "the 3.0 list shares the library's state";
  EXPECT_CKR(CKR_CRYPTOKI_ALREADY_INITIALIZED, fl3->C_Initialize(nullptr));
  CK_ULONG count = 0;
  EXPECT_CKR_OK(fl3->C_GetSlotList(CK_FALSE, nullptr, &count));
  EXPECT_GE(count, 1u);
}

}  // namespace
}  // namespace ferrohsm::abi
