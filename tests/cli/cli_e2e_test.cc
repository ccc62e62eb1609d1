// End-to-end runs of the built `ferrohsm` binary on a fresh store.
#include "cli_fixture.h"
#include "base/pkcs11_uri.h"
#include "test_keys.h"

#include <set>

namespace ferrohsm::cli::test {
namespace {

const nlohmann::json* find_object(const nlohmann::json& list, const std::string& label, const std::string& cls) {
  for (const auto& o : list["objects"])
    if (o["label"] == label && o["class"] == cls) return &o;
  return nullptr;
}

TEST_F(CliTest, FullLifecycle) {
  init_token("life");
  auto info = json_ok({"info"});
  ASSERT_EQ(info["slots"].size(), 2u);
  EXPECT_EQ(info["slots"][0]["label"], "life");
  EXPECT_EQ(info["config"], conf_);

  struct Gen {
    std::string type;
    std::string key_type;
    unsigned bits;
    bool pair;
  };
  const std::vector<Gen> gens = {
      {"rsa:2048", "rsa", 2048, true},       {"rsa:3072", "rsa", 3072, true},      {"rsa:4096", "rsa", 4096, true},
      {"ec:p256", "ec", 256, true},          {"ec:p384", "ec", 384, true},         {"ec:p521", "ec", 521, true},
      {"ed25519", "ec-edwards", 255, true},  {"ed448", "ec-edwards", 448, true},   {"aes:128", "aes", 128, false},
      {"aes:256", "aes", 256, false},        {"generic:32", "generic-secret", 256, false},
  };
  for (const Gen& g : gens) {
    auto doc = json_ok({"key", "generate", "--type", g.type, "--label", "k-" + g.type});
    EXPECT_EQ(doc["objects"].size(), g.pair ? 2u : 1u) << g.type;
  }
  auto explicit_id = json_ok({"key", "generate", "--type", "ec:p256", "--label", "with-id", "--id", "0102"});
  EXPECT_EQ(explicit_id["objects"][0]["uri"], "pkcs11:token=life;object=with-id;id=%01%02;type=private");

  auto list = json_ok({"key", "list"});
  EXPECT_EQ(list["token"], "life");
  EXPECT_EQ(list["objects"].size(), 8u * 2 + 3 + 2);
  for (const Gen& g : gens) {
    for (const char* cls : g.pair ? std::vector<const char*>{"private-key", "public-key"}
                                  : std::vector<const char*>{"secret-key"}) {
      const nlohmann::json* o = find_object(list, "k-" + g.type, cls);
      ASSERT_NE(o, nullptr) << g.type << " " << cls;
      EXPECT_EQ((*o)["key_type"], g.key_type) << g.type;
      EXPECT_EQ((*o)["bits"], g.bits) << g.type;
      EXPECT_EQ((*o)["id"].get<std::string>().size(), 16u) << "8 random bytes by default";
      auto uri = parse_pkcs11_uri((*o)["uri"].get<std::string>());
      ASSERT_TRUE(uri.ok()) << (*o)["uri"];
      EXPECT_EQ(uri->token, "life");
      EXPECT_EQ(uri->object, "k-" + g.type);
    }
  }

  // Import a PKCS#8 key and a certificate made in-process.
  auto key = make_key("p384");
  std::string key_file = dir_.write("key.pem", pkcs8_pem(key.get()));
  std::string cert_file = dir_.write("cert.der", self_signed_cert(key.get(), "e2e").der);
  auto imported = json_ok({"key", "import", "--file", key_file, "--label", "imp"});
  EXPECT_EQ(imported["kind"], "private key (ec)");
  ASSERT_EQ(imported["objects"].size(), 2u);
  auto cert = json_ok({"key", "import", "--file", cert_file, "--label", "imp-cert"});
  EXPECT_EQ(cert["kind"], "certificate");
  EXPECT_EQ(cert["objects"][0]["id"], imported["objects"][0]["id"]);
  list = json_ok({"key", "list"});
  ASSERT_NE(find_object(list, "imp", "private-key"), nullptr);
  ASSERT_NE(find_object(list, "imp-cert", "certificate"), nullptr);
  EXPECT_EQ((*find_object(list, "imp", "public-key"))["bits"], 384);

  // Delete: by label (both halves), then one class only, then by URI, then nothing.
  auto del = json_ok({"key", "delete", "--label", "k-ec:p256"});
  EXPECT_EQ(del["deleted"], 2);
  del = json_ok({"key", "delete", "--label", "k-rsa:2048", "--type", "private"});
  EXPECT_EQ(del["deleted"], 1);
  del = json_ok({"key", "delete", "--uri", "pkcs11:token=life;id=%01%02;type=public"});
  EXPECT_EQ(del["deleted"], 1);
  list = json_ok({"key", "list"});
  EXPECT_EQ(find_object(list, "k-ec:p256", "private-key"), nullptr);
  EXPECT_EQ(find_object(list, "k-rsa:2048", "private-key"), nullptr);
  EXPECT_NE(find_object(list, "k-rsa:2048", "public-key"), nullptr);
  EXPECT_EQ(find_object(list, "with-id", "public-key"), nullptr);
  EXPECT_NE(find_object(list, "with-id", "private-key"), nullptr);
  RunResult none = run_with_pins({"key", "delete", "--label", "k-ec:p256"});
  EXPECT_EQ(none.exit_code, 4) << describe(none);

  // PIN change; the old PIN is then wrong (exit 3), the new one works.
  const std::string new_pin = "changed-5678";
  secrets_.push_back(new_pin);
  RunResult changed = run({"pin", "change"}, {{"FERROHSM_PIN", kUserPin}, {"FERROHSM_NEW_PIN", new_pin}});
  ASSERT_EQ(changed.exit_code, 0) << describe(changed);
  RunResult wrong = run_with_pins({"key", "list"});
  EXPECT_EQ(wrong.exit_code, 3) << describe(wrong);
  EXPECT_NE(wrong.err.find("(CKR_PIN_INCORRECT)"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.err.rfind("ferrohsm: key list: ", 0), 0u) << wrong.err;
  EXPECT_EQ(std::count(wrong.err.begin(), wrong.err.end(), '\n'), 1) << "one line: " << wrong.err;
  json_ok({"key", "list"}, new_pin);

  // Token delete: a wrong SO PIN refuses, the right one deletes.
  RunResult bad_so = run_with_pins({"token", "delete", "--token", "life"}, new_pin, "wrong-so-pin");
  EXPECT_EQ(bad_so.exit_code, 3) << describe(bad_so);
  RunResult gone = run_with_pins({"token", "delete", "--token", "life"}, new_pin);
  ASSERT_EQ(gone.exit_code, 0) << describe(gone);
  auto tokens = json_ok({"token", "list"});
  EXPECT_TRUE(tokens["tokens"].empty());
  RunResult missing = run_with_pins({"key", "list", "--token", "life"}, new_pin);
  EXPECT_EQ(missing.exit_code, 4) << describe(missing);
}

TEST_F(CliTest, PinFilesWithTrailingNewlines) {
  std::string so_file = dir_.write("so", std::string(kSoPin) + "\n");
  std::string user_file = dir_.write("user", std::string(kUserPin) + "\r\n");
  RunResult r = run({"token", "init", "--label", "files", "--so-pin-file", so_file, "--pin-file", user_file});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  RunResult list = run({"key", "list", "--pin-file", user_file});
  EXPECT_EQ(list.exit_code, 0) << describe(list);
  RunResult env_pin = run({"key", "list"}, {{"FERROHSM_PIN", kUserPin}});
  EXPECT_EQ(env_pin.exit_code, 0) << describe(env_pin);
}

TEST_F(CliTest, NoPinSourceAndNoTerminalFailsNamingTheOptions) {
  init_token("nopin");
  RunResult r = run({"key", "list"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("--pin-file"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("FERROHSM_PIN"), std::string::npos) << r.err;
  RunResult so = run({"token", "delete", "--token", "nopin"}, {{"FERROHSM_PIN", kUserPin}});
  EXPECT_EQ(so.exit_code, 2) << describe(so);
  EXPECT_NE(so.err.find("--so-pin-file"), std::string::npos) << so.err;
}

TEST_F(CliTest, PinsFromTheTerminalPromptWithoutEcho) {
  RunResult r = run_tty({"token", "init", "--label", "tty"}, {{"Enter SO PIN: ", std::string(kSoPin) + "\n"},
                                                             {"Repeat SO PIN: ", std::string(kSoPin) + "\n"},
                                                             {"Enter user PIN: ", std::string(kUserPin) + "\n"},
                                                             {"Repeat user PIN: ", std::string(kUserPin) + "\n"}});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("initialised token 'tty'"), std::string::npos) << r.out;
  RunResult list = run_tty({"key", "list"}, {{"Enter user PIN: ", std::string(kUserPin) + "\n"}});
  EXPECT_EQ(list.exit_code, 0) << describe(list);
  EXPECT_NE(list.out.find("no objects on token 'tty'"), std::string::npos) << list.out;
}

TEST_F(CliTest, NewPinEntriesThatDifferAreRefused) {
  init_token("differ");
  RunResult r = run_tty({"pin", "change"}, {{"Enter user PIN: ", std::string(kUserPin) + "\n"},
                                            {"Enter new user PIN: ", "first-new-1\n"},
                                            {"Repeat new user PIN: ", "second-new-2\n"}});
  EXPECT_EQ(r.exit_code, 3) << describe(r);
  EXPECT_NE(r.out.find("differ"), std::string::npos) << r.out;
  json_ok({"key", "list"});  // the old PIN still works
}

TEST_F(CliTest, LockedUserPinIsUnlockedByTheSo) {
  init_token("lock");
  for (int i = 0; i < 3; ++i) {
    RunResult r = run_with_pins({"key", "list"}, "wrong-pin-0");
    EXPECT_EQ(r.exit_code, 3) << describe(r);
  }
  RunResult locked = run_with_pins({"key", "list"});
  EXPECT_EQ(locked.exit_code, 3) << describe(locked);
  EXPECT_NE(locked.err.find("CKR_PIN_LOCKED"), std::string::npos) << locked.err;
  auto tokens = json_ok({"token", "list"});
  auto flags = tokens["tokens"][0]["flags"].get<std::set<std::string>>();
  EXPECT_TRUE(flags.count("user-pin-locked"));
  RunResult unlock = run_with_pins({"pin", "unlock"});
  ASSERT_EQ(unlock.exit_code, 0) << describe(unlock);
  json_ok({"key", "list"});
}

TEST_F(CliTest, SoPinChangeAndPinInit) {
  init_token("so");
  const std::string new_so = "new-so-pin-99";
  secrets_.push_back(new_so);
  RunResult r = run({"pin", "change", "--so"}, {{"FERROHSM_SO_PIN", kSoPin}, {"FERROHSM_NEW_PIN", new_so}});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  RunResult old_so = run_with_pins({"pin", "init"});
  EXPECT_EQ(old_so.exit_code, 3) << describe(old_so);
  const std::string reset_user = "reset-user-77";
  secrets_.push_back(reset_user);
  RunResult init = run_with_pins({"pin", "init"}, reset_user, new_so);
  ASSERT_EQ(init.exit_code, 0) << describe(init);
  json_ok({"key", "list"}, reset_user);
}

TEST_F(CliTest, ShortUserPinLeavesNoHalfMadeToken) {
  RunResult r = run_with_pins({"token", "init", "--label", "short"}, "12");
  EXPECT_EQ(r.exit_code, 3) << describe(r);
  EXPECT_NE(r.err.find("CKR_PIN_LEN_RANGE"), std::string::npos) << r.err;
  auto tokens = json_ok({"token", "list"});
  EXPECT_TRUE(tokens["tokens"].empty());
}

TEST_F(CliTest, TokenSelection) {
  init_token("first");
  init_token("second");
  RunResult dup = run_with_pins({"token", "init", "--label", "first"});
  EXPECT_EQ(dup.exit_code, 2) << describe(dup);
  RunResult ambiguous = run_with_pins({"key", "list"});
  EXPECT_EQ(ambiguous.exit_code, 2) << describe(ambiguous);
  EXPECT_NE(ambiguous.err.find("--token"), std::string::npos);
  json_ok({"key", "generate", "--type", "aes:128", "--label", "only-in-second", "--token", "second"});
  auto by_uri = json_ok({"key", "list", "--uri", "pkcs11:token=second"});
  EXPECT_EQ(by_uri["token"], "second");
  EXPECT_EQ(by_uri["objects"].size(), 1u);
  auto by_slot = json_ok({"key", "list", "--slot", "0"});
  EXPECT_EQ(by_slot["token"], "first");
  EXPECT_TRUE(by_slot["objects"].empty());
  RunResult no_label = run_with_pins({"key", "list", "--token", "third"});
  EXPECT_EQ(no_label.exit_code, 4) << describe(no_label);
  RunResult no_slot = run_with_pins({"key", "list", "--slot", "99"});
  EXPECT_EQ(no_slot.exit_code, 4) << describe(no_slot);
  RunResult free_slot = run_with_pins({"key", "list", "--slot", "2"});
  EXPECT_EQ(free_slot.exit_code, 4) << describe(free_slot);
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  init_token("usage");
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"key"},
           {"frobnicate"},
           {"key", "generate", "--type", "rsa:1024", "--label", "x"},
           {"key", "generate", "--type", "aes:128", "--label", "x", "--id", "zz"},
           {"key", "delete"},
           {"key", "delete", "--label", "x", "--type", "bogus"},
           {"key", "list", "--uri", "pkcs11:token=usage?pin-value=1234"},
           {"key", "list", "--slot", "0", "--token", "usage"},
           {"token", "init"},
       }) {
    RunResult r = run_with_pins(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code, 2) << joined << "\n" << describe(r);
  }
}

TEST_F(CliTest, JsonErrorDocument) {
  init_token("json");
  RunResult r = run_with_pins({"key", "list", "--json"}, "not-the-pin");
  EXPECT_EQ(r.exit_code, 3);
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["rv"], "CKR_PIN_INCORRECT");
  EXPECT_EQ(doc["exit_code"], 3);
}

TEST_F(CliTest, ExplicitConfigOption) {
  // --config beats FERROHSM_CONF: the store named there is used.
  std::string other = dir_.write("other.toml", "[store]\npath = \"" + dir_.file("other.db") +
                                                   "\"\n[pin]\nkdf_iterations = 1000\n[dev]\nallow_weak_kdf = true\n");
  RunResult r = run_with_pins({"--config", other, "token", "init", "--label", "elsewhere"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  auto here = json_ok({"token", "list"});
  EXPECT_TRUE(here["tokens"].empty());
  auto there = json_ok({"token", "list", "--config", other});
  ASSERT_EQ(there["tokens"].size(), 1u);
  EXPECT_EQ(there["tokens"][0]["label"], "elsewhere");
  RunResult missing = run({"--config", dir_.file("absent.toml"), "info"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("absent.toml"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace ferrohsm::cli::test
