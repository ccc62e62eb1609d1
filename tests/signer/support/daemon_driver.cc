#include "base/bytes.h"
#include "support/daemon_driver.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "base/base64.h"

namespace ferrohsm::signer::testing {

using nlohmann::json;

Daemon::Daemon(const std::string& binary, const TempDir& dir, std::vector<std::string> extra_args,
               std::map<std::string, std::string> env, const std::string& scheme)
    : dir_(dir) {
  std::remove(dir.file("port").c_str());
  std::vector<std::string> argv = {binary, "--listen", "127.0.0.1:0", "--port-file", dir.file("port")};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  env["XDG_DATA_HOME"] = dir.file("xdg");
  child_ = std::make_unique<ChildProcess>(argv, env, dir.file("daemon.log"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline && child_->running()) {
    std::string port = read_text_file(dir.file("port"));
    if (!port.empty()) {
      base_ = scheme + "://127.0.0.1:" + port.substr(0, port.find('\n'));
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Daemon::~Daemon() { stop(); }

int Daemon::stop() { return child_ ? child_->stop() : -1; }

std::string Daemon::log() const { return read_text_file(dir_.file("daemon.log")); }

std::pair<int, std::string> Daemon::curl(const std::string& method, const std::string& path, const std::string& body) {
  std::vector<std::string> argv = {"curl", "-sS", "-X", method, "-o", dir_.file("curl.out"), "-w", "%{http_code}",
                                   "--max-time", "10", base_ + path};
  if (!body.empty()) argv.insert(argv.end(), {"-H", "Content-Type: application/json", "-d", body});
  auto r = run_command(argv);
  if (r.exit_code != 0) return {0, r.err};
  return {std::stoi(r.out), read_text_file(dir_.file("curl.out"))};
}

json Daemon::curl_json(const std::string& method, const std::string& path, int expect, const std::string& body) {
  auto [status, text] = curl(method, path, body);
  EXPECT_EQ(status, expect) << method << " " << path << ": " << text;
  return json::parse(text, nullptr, false);
}

// Signs `message`'s SHA-512 through the daemon and verifies it with `openssl pkeyutl`
// against the PEM the daemon publishes for the key id it reports. Returns the key id.
std::string sign_and_verify_with_openssl(Daemon& daemon, const TempDir& dir, const std::string& scope,
                                         const std::string& message) {
  Digest d = sha512_of(message);
  auto sig = daemon.curl_json("POST", "/v1/scopes/" + scope + "/sign", 200, json{{"digest", to_base64(d)}}.dump());
  std::string key_id = sig.value("key_id", "");
  auto sig_bytes = from_base64(sig.value("signature", ""));
  EXPECT_TRUE(sig_bytes && sig_bytes->size() == 64);
  if (!sig_bytes) return key_id;
  auto [pem_status, pem] = daemon.curl("GET", "/v1/scopes/" + scope + "/keys/" + key_id + ".pem");
  EXPECT_EQ(pem_status, 200);
  write_file(dir.file("pub.pem"), as_bytes(pem));
  write_file(dir.file("digest.bin"), d);
  write_file(dir.file("sig.bin"), *sig_bytes);
  auto ok = run_command({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey", dir.file("pub.pem"), "-rawin", "-in",
                         dir.file("digest.bin"), "-sigfile", dir.file("sig.bin")});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("Signature Verified Successfully"), std::string::npos) << ok.out;
  // The same signature must not verify for another digest.
  write_file(dir.file("digest.bin"), sha512_of(message + "!"));
  auto bad = run_command({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey", dir.file("pub.pem"), "-rawin", "-in",
                          dir.file("digest.bin"), "-sigfile", dir.file("sig.bin")});
  EXPECT_NE(bad.exit_code, 0);
  return key_id;
}

std::pair<std::string, std::string> rotate_and_verify(Daemon& daemon, const TempDir& dir, const std::string& handle_prefix) {
  return rotate_and_verify(daemon, dir, [&](const std::string& handle, const std::string& key_id) {
    EXPECT_EQ(handle, handle_prefix + key_id);
  });
}

std::pair<std::string, std::string> rotate_and_verify(
    Daemon& daemon, const TempDir& dir,
    const std::function<void(const std::string& handle, const std::string& key_id)>& check_handle) {
  auto gen = daemon.curl_json("POST", "/v1/scopes/payments/keys", 201);
  std::string first = gen.value("key_id", "");
  check_handle(gen.value("handle_id", ""), first);
  EXPECT_EQ(sign_and_verify_with_openssl(daemon, dir, "payments", "one"), first);
  auto opened = daemon.curl_json("POST", "/v1/scopes/payments/rotation/open", 201);
  std::string second = opened.value("key_id", "");
  EXPECT_EQ(opened.value("state", ""), "pending");
  check_handle(opened.value("handle_id", ""), second);
  EXPECT_NE(second, first);
  EXPECT_EQ(sign_and_verify_with_openssl(daemon, dir, "payments", "pending"), first);  // pending does not sign
  daemon.curl_json("POST", "/v1/scopes/payments/rotation/activate", 200);
  EXPECT_EQ(sign_and_verify_with_openssl(daemon, dir, "payments", "two"), second);
  auto closed = daemon.curl_json("POST", "/v1/scopes/payments/rotation/close", 200);
  EXPECT_EQ(closed["key_id"], first);
  EXPECT_EQ(closed["state"], "retired");
  EXPECT_EQ(sign_and_verify_with_openssl(daemon, dir, "payments", "three"), second);
  auto retired = daemon.curl_json("POST", "/v1/scopes/payments/sign", 409,
                                  json{{"digest", to_base64(sha512_of("x"))}, {"key_id", first}}.dump());
  EXPECT_EQ(retired["error"]["kind"], "key_retired");
  EXPECT_EQ(daemon.curl_json("GET", "/readyz", 200, "")["ready"], true);
  return {first, second};
}

}  // namespace ferrohsm::signer::testing
