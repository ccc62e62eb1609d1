// The module exports exactly the three PKCS#11 3.0 entry points (ARCHITECTURE: a thin
// C boundary; every other function is reached through a function list).
#include <dlfcn.h>

#include <cstdio>
#include <set>
#include <sstream>
#include <string>

#include "fixture/module_fixture.h"

namespace ferrohsm::abi {
namespace {

std::set<std::string> DefinedDynamicSymbols(const std::string& path) {
  std::set<std::string> names;
  std::string cmd = "nm -D --defined-only '" + path + "' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return names;
  char line[512];
  while (std::fgets(line, sizeof line, p) != nullptr) {
    std::istringstream in(line);
    std::string addr, type, name;
    if (!(in >> addr >> type >> name)) continue;
    if (type == "A") continue;  // version-definition nodes, not symbols
    names.insert(name.substr(0, name.find('@')));
  }
  pclose(p);
  return names;
}

TEST(ExportsTest, ExactlyTheThreeEntryPoints) {
  SKIP_IF_SOFTHSM("SoftHSMv2 exports every C_* function (allowed for 2.40 modules)");
  std::set<std::string> names = DefinedDynamicSymbols(GetModule().path);
  ASSERT_FALSE(names.empty()) << "nm -D found no symbols in " << GetModule().path;
  std::set<std::string> expected = {"C_GetFunctionList", "C_GetInterfaceList", "C_GetInterface"};
  std::string listing;
  for (const auto& n : names) listing += n + " ";
  EXPECT_EQ(names, expected) << "exported: " << listing;
}

TEST(ExportsTest, OtherFunctionsAreNotReachableByDlsym) {
  SKIP_IF_SOFTHSM("SoftHSMv2 exports every C_* function (allowed for 2.40 modules)");
  void* dl = GetModule().dl;
  EXPECT_NE(dlsym(dl, "C_GetFunctionList"), nullptr);
  EXPECT_NE(dlsym(dl, "C_GetInterfaceList"), nullptr);
  EXPECT_NE(dlsym(dl, "C_GetInterface"), nullptr);
  for (const char* hidden : {"C_Initialize", "C_Sign", "C_OpenSession", "C_Login",
                             "C_GenerateKeyPair", "C_Finalize"}) {
    EXPECT_EQ(dlsym(dl, hidden), nullptr) << hidden << " must not be exported";
  }
}

}  // namespace
}  // namespace ferrohsm::abi
