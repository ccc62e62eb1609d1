// Drives the built ferrohsm-signer daemon for the end-to-end tests: starts it on a
// loopback port (--port-file), talks to it with the curl CLI, and checks every
// signature with the openssl CLI against the PEM the daemon publishes.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "support/process.h"
#include "support/reference.h"

namespace ferrohsm::signer::testing {

class Daemon {
 public:
  // Starts `binary` with --listen 127.0.0.1:0 and waits (at most 15 s) for its port.
  Daemon(const std::string& binary, const TempDir& dir, std::vector<std::string> extra_args = {},
         std::map<std::string, std::string> env = {}, const std::string& scheme = "http");
  ~Daemon();
  int stop();
  bool up() const { return !base_.empty(); }
  std::string log() const;
  const std::string& base() const { return base_; }

  // curl: returns (HTTP status, body); status 0 when curl itself failed.
  std::pair<int, std::string> curl(const std::string& method, const std::string& path, const std::string& body = "");
  nlohmann::json curl_json(const std::string& method, const std::string& path, int expect,
                           const std::string& body = "{}");

 private:
  const TempDir& dir_;
  std::unique_ptr<ChildProcess> child_;
  std::string base_;
};

// Signs `message`'s SHA-512 through the daemon and verifies it with `openssl pkeyutl`
// against the PEM the daemon publishes for the key id it reports (and checks that it
// does not verify for another digest). Returns the key id.
std::string sign_and_verify_with_openssl(Daemon& daemon, const TempDir& dir, const std::string& scope,
                                         const std::string& message);

// generate, sign, rotation open/activate/close with curl, every signature verified with
// openssl; the same commands on whichever provider. Returns the first (now retired) and
// the second (active) key id.
std::pair<std::string, std::string> rotate_and_verify(Daemon& daemon, const TempDir& dir,
                                                      const std::string& handle_prefix);
// The same, with the handle checked by `check_handle(handle, key_id)` (cloud handles do
// not end with the key id: an ARN, a key version name).
std::pair<std::string, std::string> rotate_and_verify(
    Daemon& daemon, const TempDir& dir,
    const std::function<void(const std::string& handle, const std::string& key_id)>& check_handle);

}  // namespace ferrohsm::signer::testing
