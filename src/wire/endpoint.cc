#include "wire/endpoint.h"

#include <sys/un.h>

#include <charconv>

namespace ferrohsm::wire {
namespace {

Error bad(std::string_view text, const std::string& why) {
  return make_error(CKR_ARGUMENTS_BAD, "endpoint '" + std::string(text) + "': " + why);
}

}  // namespace

Result<Endpoint> parse_endpoint(std::string_view text) {
  Endpoint e;
  e.text = std::string(text);
  if (text.starts_with("unix:")) {
    e.kind = Endpoint::Kind::kUnix;
    e.path = std::string(text.substr(5));
    if (e.path.empty()) return bad(text, "the socket path is empty");
    // sun_path holds the path and its terminating NUL.
    if (e.path.size() >= sizeof(sockaddr_un{}.sun_path))
      return bad(text, "the socket path is longer than " + std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                           " bytes");
    return e;
  }
  if (!text.starts_with("tcp:")) return bad(text, "must start with unix: or tcp:");
  e.kind = Endpoint::Kind::kTcp;
  std::string_view rest = text.substr(4);
  std::string_view port;
  if (rest.starts_with("[")) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
      return bad(text, "an IPv6 address is written [addr]:port");
    e.host = std::string(rest.substr(1, close - 1));
    port = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return bad(text, "needs host:port");
    e.host = std::string(rest.substr(0, colon));
    if (e.host.find(':') != std::string::npos) return bad(text, "an IPv6 address is written [addr]:port");
    port = rest.substr(colon + 1);
  }
  if (e.host.empty()) return bad(text, "the host is empty");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535)
    return bad(text, "the port must be a number from 0 to 65535");
  e.port = static_cast<uint16_t>(value);
  return e;
}

}  // namespace ferrohsm::wire
