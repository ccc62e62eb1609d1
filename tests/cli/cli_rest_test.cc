// `ferrohsm --server https://…`: the same commands through a ferrohsm-server's REST API
// (one RestServer over a real core and store, TLS 1.3 with client certificates on
// loopback, shared by the whole program) give the same lines and the same JSON shape as
// against an embedded store; a signature made through REST verifies with `openssl`;
// a wrong CA, a foreign or missing client certificate and a port where nothing listens
// each end quickly with a clear message and a non-zero exit.
#include "cli_fixture.h"

#include "core/core.h"
#include "server/config.h"
#include "server/rest/rest_server.h"
#include "server_fixture.h"
#include "store/open_store.h"

#include <openssl/ecdsa.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <regex>

namespace ferrohsm::cli::test {
namespace {

using nlohmann::json;
using server::testing::test_pki;

constexpr int kSeconds = 30;  // every run; a hang fails the test instead of CI

// The JSON's shape: its keys and value types, arrays by their first element.
json shape(const json& j) {
  if (j.is_object()) {
    json s = json::object();
    for (auto it = j.begin(); it != j.end(); ++it) s[it.key()] = shape(it.value());
    return s;
  }
  if (j.is_array()) return j.empty() ? json::array() : json::array({shape(j.front())});
  return j.type_name();
}

// A line without what differs by backend: digits (ids, sizes, ports), URIs and paths.
std::string normal(std::string line) {
  line = std::regex_replace(line, std::regex(R"((pkcs11:|https://)\S+)"), "<uri>");
  line = std::regex_replace(line, std::regex(R"(id=\S+)"), "id=<id>");
  return std::regex_replace(line, std::regex("[0-9]+"), "#");
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// PKCS#11's ECDSA signature (r || s) as the DER SEQUENCE that `openssl dgst` reads.
std::string ecdsa_der(const std::string& raw) {
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  const int half = static_cast<int>(raw.size() / 2);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(p, half, nullptr), BN_bin2bn(p + half, half, nullptr));
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  std::string out(reinterpret_cast<const char*>(der), len > 0 ? static_cast<size_t>(len) : 0);
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

class CliRest : public CliTest {
 protected:
  static void SetUpTestSuite() {
    dir_s_ = new TempDir();
    const auto& p = test_pki();
    std::string toml = "[server]\nlisten = [\"unix:" + dir_s_->file("s.sock") + "\"]\ntls_cert = \"" + p.server_cert +
                       "\"\ntls_key = \"" + p.server_key + "\"\nclient_ca = \"" + p.ca + "\"\n" +
                       "[rest]\nlisten = \"127.0.0.1:0\"\n[[access]]\npeer = \"cert:CN=app1\"\ntokens = [\"rest\"]\n" +
                       "[store]\npath = \"" + dir_s_->file("server.db") + "\"\n" +
                       "[pin]\nkdf_iterations = 1000\n[dev]\nallow_weak_kdf = true\n";
    auto cfg = server::parse_server_config(toml, "cli-rest-test");
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    auto store = store::open_store(store_settings(cfg->core));
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto core = Core::open(cfg->core, std::move(*store));
    ASSERT_TRUE(core.ok()) << core.error().message;
    core_ = new std::shared_ptr<Core>(*core);
    // The token "rest" with the fixture's PINs, as `token init` makes it.
    auto app = (*core_)->open_app(AppOptions{});
    auto slots = app->slot_list(false);
    ASSERT_TRUE(slots.ok() && !slots->empty());
    ASSERT_TRUE(app->init_token(slots->front(), kSoPin, "rest").ok());
    auto h = app->open_session(slots->front(), CKF_SERIAL_SESSION | CKF_RW_SESSION);
    ASSERT_TRUE(h.ok());
    ASSERT_TRUE(app->login(*h, CKU_SO, kSoPin).ok());
    ASSERT_TRUE(app->init_pin(*h, kUserPin).ok());
    app->close();
    auto rest = server::rest::RestServer::start(*cfg, *core_);
    ASSERT_TRUE(rest.ok()) << rest.error().message;
    const std::string addr = (*rest)->address();
    url_ = new std::string("https://127.0.0.1:" + addr.substr(addr.rfind(':') + 1));
    rest_ = rest->release();
  }
  static void TearDownTestSuite() {
    delete rest_;
    delete core_;
    delete url_;
    delete dir_s_;
    rest_ = nullptr;
  }

  // The same command through the REST API, as app1 with the CA that signed the server.
  static std::vector<std::string> remote(std::vector<std::string> args, const std::string& ca = test_pki().ca,
                                         const server::testing::ClientCert& who = test_pki().app1) {
    args.insert(args.begin(), {"--server", *url_, "--cert", who.cert, "--key", who.key, "--ca", ca});
    return args;
  }

  RunResult run_both_ok(bool via_rest, const std::vector<std::string>& args) {
    RunResult r = run_pins_timed(via_rest ? remote(args) : args);
    EXPECT_EQ(r.exit_code, 0) << (via_rest ? "REST: " : "embedded: ") << describe(r);
    return r;
  }

  RunResult run_pins_timed(const std::vector<std::string>& args) {
    std::map<std::string, std::string> env = {{"FERROHSM_CONF", conf_}, {"FERROHSM_PIN", kUserPin},
                                              {"FERROHSM_SO_PIN", ""}, {"FERROHSM_NEW_PIN", ""}};
    RunResult r = run_program(FERROHSM_CLI_PATH, args, env, kSeconds);
    EXPECT_EQ(r.err.find(kUserPin), std::string::npos) << "a PIN was printed";
    EXPECT_EQ(r.out.find(kUserPin), std::string::npos) << "a PIN was printed";
    return r;
  }

  json doc(bool via_rest, std::vector<std::string> args) {
    args.push_back("--json");
    RunResult r = run_both_ok(via_rest, args);
    return json::parse(r.out, nullptr, false);
  }

  static TempDir* dir_s_;
  static std::shared_ptr<Core>* core_;
  static server::rest::RestServer* rest_;
  static std::string* url_;
};

TempDir* CliRest::dir_s_ = nullptr;
std::shared_ptr<Core>* CliRest::core_ = nullptr;
server::rest::RestServer* CliRest::rest_ = nullptr;
std::string* CliRest::url_ = nullptr;

TEST_F(CliRest, EmbeddedAndRemoteGiveTheSameOutput) {
  init_token("rest");  // the embedded store's token has the server's token's label
  const std::string msg = dir_.write("msg", "signed by the ferrohsm CLI"), bad = dir_.write("bad", "something else");
  const std::string sig = dir_.file("sig"), ct = dir_.file("ct"), pt = dir_.file("pt"), pub = dir_.file("pub.pem");
  std::map<bool, std::map<std::string, json>> docs;
  std::map<bool, std::map<std::string, std::vector<std::string>>> lines;
  for (bool via_rest : {false, true}) {
    auto& d = docs[via_rest];
    auto& l = lines[via_rest];
    auto human = [&](const std::string& name, const std::vector<std::string>& args) {
      std::istringstream in(run_both_ok(via_rest, args).out);
      for (std::string line; std::getline(in, line);) l[name].push_back(normal(line));
    };
    d["generate"] = doc(via_rest, {"key", "generate", "--type", "ec:p256", "--label", "cli-sig"});
    human("generate", {"key", "generate", "--type", "aes:256", "--label", "cli-enc"});
    d["list"] = doc(via_rest, {"key", "list"});
    human("show", {"key", "show", "--label", "cli-sig", "--type", "private"});
    if (via_rest) {
      // `info` and `token list` show the server's token (no counts: docs/CLI.md).
      json info = doc(true, {"info"});
      ASSERT_EQ(info["slots"].size(), 1u) << info;
      EXPECT_EQ(info["slots"][0]["label"], "rest");
      EXPECT_EQ(info["slots"][0]["flags"], json::array({"token-initialized"}));
      EXPECT_EQ(info["store"], *url_ + " (REST API)");
    }
    d["sign"] = doc(via_rest, {"sign", "--label", "cli-sig", "--mechanism", "ECDSA_SHA256", "--in", msg, "--out", sig});
    d["verify"] = doc(via_rest, {"verify", "--label", "cli-sig", "--mechanism", "ECDSA_SHA256", "--in", msg,
                                 "--signature", sig});
    // Another message: exit 7 and a clear line, in both modes.
    RunResult wrong = run_pins_timed(via_rest ? remote({"verify", "--label", "cli-sig", "--mechanism", "ECDSA_SHA256",
                                                        "--in", bad, "--signature", sig})
                                              : std::vector<std::string>{"verify", "--label", "cli-sig", "--mechanism",
                                                                         "ECDSA_SHA256", "--in", bad, "--signature", sig});
    EXPECT_EQ(wrong.exit_code, 7) << describe(wrong);
    l["wrong"].push_back(normal(wrong.err));
    d["encrypt"] = doc(via_rest, {"encrypt", "--label", "cli-enc", "--mechanism", "AES_GCM", "--in", msg, "--out", ct});
    human("decrypt", {"decrypt", "--label", "cli-enc", "--mechanism", "AES_GCM", "--in", ct, "--out", pt});
    EXPECT_EQ(slurp(pt), slurp(msg)) << (via_rest ? "REST" : "embedded");
    EXPECT_EQ(slurp(ct).size(), 12 + slurp(msg).size() + 16) << "IV || ciphertext || tag";
    d["public"] = doc(via_rest, {"key", "public", "--label", "cli-sig", "--out", pub});
    if (via_rest) {
      // A signature made through REST verifies with OpenSSL and the exported key.
      const std::string raw = slurp(sig);
      EXPECT_EQ(raw.size(), 64u) << "P-256 r || s";
      const std::string der = dir_.write("sig.der", ecdsa_der(raw));
      RunResult o = run_program("/usr/bin/openssl", {"dgst", "-sha256", "-verify", pub, "-signature", der, msg}, {}, kSeconds);
      EXPECT_EQ(o.exit_code, 0) << describe(o);
      EXPECT_NE(o.out.find("Verified OK"), std::string::npos) << describe(o);
    }
    d["delete"] = doc(via_rest, {"key", "delete", "--label", "cli-enc"});
    d["delete"].erase("deleted");  // 1 through REST (a key), objects the same shape
  }
  for (const auto& [name, emb] : docs[false]) {
    const json& rem = docs[true][name];
    ASSERT_FALSE(rem.is_discarded()) << name;
    if (name == "list") {
      // A pair is one REST entry (its private key); compare the private keys' entries.
      auto priv = [](const json& l) {
        for (const json& o : l["objects"])
          if (o["class"] == "private-key") return o;
        return json();
      };
      EXPECT_EQ(shape(priv(emb)), shape(priv(rem))) << "embedded " << emb << "\nREST " << rem;
      EXPECT_EQ(priv(emb)["bits"], priv(rem)["bits"]);
      EXPECT_EQ(priv(emb)["key_type"], priv(rem)["key_type"]);
      continue;
    }
    EXPECT_EQ(shape(emb), shape(rem)) << name << ": embedded " << emb << "\nREST " << rem;
  }
  EXPECT_EQ(docs[true]["verify"]["valid"], true);
  for (const auto& [name, emb] : lines[false]) {
    const auto& rem = lines[true][name];
    ASSERT_FALSE(emb.empty() || rem.empty()) << name;
    EXPECT_EQ(emb.front(), rem.front()) << name << " (first line)";
  }
}

TEST_F(CliRest, ConnectionFailuresAreClearAndQuick) {
  struct Case {
    const char* what;
    std::vector<std::string> args;
    const char* says;
  };
  const auto& p = test_pki();
  // A port nothing listens on: bound, then closed.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), len), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string dead = "https://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  ::close(fd);
  const std::vector<Case> cases = {
      {"wrong --ca", remote({"token", "list"}, p.other_ca_app1.cert), "does not verify against --ca"},
      {"foreign client certificate", remote({"token", "list"}, p.ca, p.other_ca_app1), "client certificate"},
      {"no client certificate", {"--server", *url_, "--ca", p.ca, "token", "list"}, "needs --cert and --key"},
      {"nothing listening",
       {"--server", dead, "--cert", p.app1.cert, "--key", p.app1.key, "--ca", p.ca, "token", "list"},
       "cannot connect"},
      {"token init", remote({"token", "init", "--label", "x"}), "is not offered through the REST API"},
  };
  for (const Case& c : cases) {
    RunResult r = run_pins_timed(c.args);
    EXPECT_GT(r.exit_code, 0) << c.what << ": " << describe(r);
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.what << ": " << describe(r);
  }
  // A wrong PIN through REST is the PIN exit code, as embedded.
  std::map<std::string, std::string> env = {{"FERROHSM_CONF", conf_}, {"FERROHSM_PIN", "not-the-pin"}};
  RunResult r = run_program(FERROHSM_CLI_PATH, remote({"key", "list"}), env, kSeconds);
  EXPECT_EQ(r.exit_code, 3) << describe(r);
  EXPECT_NE(r.err.find("CKR_PIN_INCORRECT"), std::string::npos) << describe(r);
}

}  // namespace
}  // namespace ferrohsm::cli::test
