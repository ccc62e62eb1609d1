#include "wire/protocol.h"

#include "wire/frame.h"

#include <algorithm>

namespace ferrohsm::wire {

std::string software_version() { return std::string("ferrohsm ") + FERROHSM_VERSION_STRING; }

Hello make_hello(uint64_t max_message) {
  Hello h;
  h.set_magic(kMagic);
  h.set_major(kProtocolMajor);
  h.set_minor(kProtocolMinor);
  h.set_software(software_version());
  h.set_max_message(max_message);
  return h;
}

std::optional<std::string> version_refusal(const Hello& hello) {
  if (hello.major() == kProtocolMajor) return std::nullopt;
  return "protocol " + std::to_string(hello.major()) + "." + std::to_string(hello.minor()) +
         " is not supported by this server (" + std::to_string(kProtocolMajor) + ".x)";
}

Status check_hello_reply(const HelloReply& reply, const std::string& endpoint) {
  if (!reply.accepted()) {
    std::string why = reply.refusal().empty() ? std::string("no reason given") : reply.refusal();
    if (!reply.identity().empty()) why += " (it took this client to be " + reply.identity() + ")";
    return make_error(CKR_DEVICE_ERROR, "server " + endpoint + " refused the connection: " + why);
  }
  if (reply.major() != kProtocolMajor)
    return make_error(CKR_DEVICE_ERROR, "server " + endpoint + " speaks protocol " + std::to_string(reply.major()) +
                                            "." + std::to_string(reply.minor()) + ", this library " +
                                            std::to_string(kProtocolMajor) + ".x");
  return {};
}

size_t append_frame(const google::protobuf::MessageLite& message, std::string& out) {
  size_t size = message.ByteSizeLong();
  size_t at = out.size();
  out.resize(at + kFrameHeader + size);
  auto header = frame_header(static_cast<uint32_t>(size));
  auto* p = reinterpret_cast<uint8_t*>(out.data() + at);
  std::copy(header.begin(), header.end(), p);
  message.SerializeWithCachedSizesToArray(p + kFrameHeader);
  return size;
}

}  // namespace ferrohsm::wire
