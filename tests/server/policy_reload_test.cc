// SIGHUP's part in the PKCS#11 service: the reloaded file's [[policy]] rules replace
// those in force (docs/POLICY.md); a file whose rules do not load is refused before
// the service sees it, so the running rules stay.
#include "server/config.h"
#include "server/pkcs11_service.h"

#include "core/core.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

namespace ferrohsm::server {
namespace {

std::string ServerToml(const std::string& dir, const std::string& policy) {
  return "[server]\nlisten = [\"unix:" + dir + "/s.sock\"]\n[store]\npath = \"" + dir +
         "/s.db\"\n[pin]\nkdf_iterations = 1000\n[dev]\nallow_weak_kdf = true\n" + policy;
}

TEST(Pkcs11ServiceReload, ThePolicyRulesAreReplacedAndABadFileChangesNothing) {
  char tmpl[] = "/tmp/fh-policy-reload-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  auto first = parse_server_config(ServerToml(dir, "[[policy]]\nname = \"a\"\nkey = \"a-*\"\n"), "first");
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto made = make_pkcs11_service(*first);
  ASSERT_TRUE(made.ok()) << made.error().message;
  auto& service = static_cast<Pkcs11Service&>(**made);
  ASSERT_TRUE(service.core().policy().active());
  ASSERT_EQ(service.core().policy().rules()->rules.at(0).name, "a");

  auto second = parse_server_config(
      ServerToml(dir, "[[policy]]\nname = \"b\"\nmax_uses = 5\n[[policy]]\nname = \"c\"\nrate = \"1/s\"\n"), "second");
  ASSERT_TRUE(second.ok()) << second.error().message;
  ASSERT_TRUE(service.reload(*second).ok());
  auto now = service.core().policy().rules();
  ASSERT_EQ(now->rules.size(), 2u);
  EXPECT_EQ(now->rules[0].name, "b");
  EXPECT_EQ(now->rules[1].name, "c");

  // What SIGHUP does with a bad file: load_server_config refuses it, naming the line,
  // and the service is never asked.
  auto bad = parse_server_config(ServerToml(dir, "[[policy]]\nname = \"d\"\nrate = \"often\"\n"), "bad");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 11: policy \"d\": rate"), std::string::npos) << bad.error().message;
  EXPECT_EQ(service.core().policy().rules()->rules.size(), 2u);

  auto none = parse_server_config(ServerToml(dir, ""), "none");
  ASSERT_TRUE(none.ok());
  ASSERT_TRUE(service.reload(*none).ok());
  EXPECT_FALSE(service.core().policy().active()) << "no rules: the checks cost one load again";
  made->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ferrohsm::server
