// Where a server listens and a client connects, as written in configurations:
// "unix:/run/ferrohsm/ferrohsm.sock" or "tcp:host:port" ("tcp:[::1]:5696" for an IPv6
// literal). Shared by ferrohsm-server's [server] listen and the library's
// [sidecar] endpoints so that both read the same strings the same way.
#pragma once

#include "base/result.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace ferrohsm::wire {

struct Endpoint {
  enum class Kind { kUnix, kTcp };
  Kind kind = Kind::kUnix;
  std::string path;  // unix: the socket file
  std::string host;  // tcp: a name or an address literal (without brackets)
  uint16_t port = 0;  // tcp; 0 in a listen entry: any free port (tests read the bound one back)
  std::string text;  // as written, for logs

  bool is_unix() const { return kind == Kind::kUnix; }
  bool is_tcp() const { return kind == Kind::kTcp; }
};

// Parses one endpoint string; the error (CKR_ARGUMENTS_BAD) names what is wrong.
Result<Endpoint> parse_endpoint(std::string_view text);

}  // namespace ferrohsm::wire
