// ferrohsm-server's configuration (server.toml). The server reads [server], [limits]
// and [[access]] itself; every other section ([store], [pin], [log], [token.*], [dev])
// is the library's ferrohsm.toml and goes, as written, to the core's parser
// (core/config.h), which refuses unknown keys there. docs/SERVER.md lists every key.
#pragma once

#include "base/result.h"
#include "core/config.h"
#include "server/access.h"
#include "wire/endpoint.h"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ferrohsm::server {

// [limits]: every one has a default that is safe for a server on a shared machine.
struct Limits {
  uint64_t max_message = 16u << 20;            // the largest frame either way (bytes)
  uint32_t max_sessions_per_connection = 1024;  // enforced by the PKCS#11 service
  uint32_t max_connections = 1024;              // all peers together, handshakes included
  uint32_t max_connections_per_peer = 256;      // per peer identity
  uint32_t max_calls_in_flight = 64;            // per connection; past it the server stops reading it
  uint32_t handshake_timeout_ms = 5000;         // accept to accepted Hello (TLS included)
  uint32_t idle_timeout_ms = 0;                 // no call in flight for this long: close; 0 = never
  uint32_t shutdown_timeout_ms = 10000;         // SIGTERM: how long calls in flight may still run
};

// [rest]: the REST API's HTTPS listener (docs/REST.md), with the server's TLS files.
struct RestConfig {
  std::string listen;                 // "127.0.0.1:8443", "[::1]:8443"; empty: no REST API
  uint32_t max_body = 1u << 20;       // bytes of a request body
  uint32_t session_ttl_s = 900;       // a login bearer's lifetime
  uint32_t rate_per_s = 200;          // requests per second per identity (a token bucket, burst = rate)
  uint32_t threads = 8;               // requests served at once
  uint32_t timeout_ms = 10000;        // reading a request, writing an answer
};

struct ServerConfig {
  std::string source;  // the file, for messages ("" when parsed from text)

  // [server]
  std::vector<wire::Endpoint> listen;
  std::string tls_cert;   // paths, relative ones resolved against the file's folder
  std::string tls_key;
  std::string client_ca;
  uint32_t socket_mode = 0660;
  std::optional<gid_t> socket_group;  // chgrp of unix: socket files
  uint32_t io_threads = 0;        // each with its own event loop; runs quick calls; 0 = one per CPU
  uint32_t workers = 0;           // quick calls that arrive together on a connection; 0 = one per CPU (at least 2)
  uint32_t blocking_workers = 4;  // slow calls (PIN KDF, RSA key generation)
  // How long an event loop keeps polling (without sleeping) after its last event before it
  // blocks: the next call of a busy client is then read without a thread wake-up.
  uint32_t busy_poll_us = 50;
  // How long a token key stays in memory after the last application logged out, so that
  // the next login with the right PIN skips the PIN derivation (core/token_key_cache.h).
  uint32_t login_grace_ms = 60000;

  Limits limits;
  RestConfig rest;
  std::vector<AccessRule> access;

  // The other sections, as TOML text, and what the core's parser made of them.
  std::string core_toml;
  Config core;
  bool log_level_set = false;  // [log] level given; else the server logs at info

  bool has_tcp() const;
};

// Parses server.toml text. `base_dir` resolves relative file paths ("" = as written).
Result<ServerConfig> parse_server_config(const std::string& text, const std::string& source,
                                         const std::string& base_dir = {});
// Reads and parses a file; relative paths in it are relative to its folder.
Result<ServerConfig> load_server_config(const std::string& path);

}  // namespace ferrohsm::server
