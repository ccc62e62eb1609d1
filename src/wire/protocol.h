// What both ends of the sidecar protocol agree on beyond the framing (frame.h): the
// Hello rules (magic, versions, refusal sentences), the capabilities, the server's own
// function indexes, and encoding a message as one frame. See docs/SERVER.md, "The protocol".
#pragma once

#include "base/result.h"
#include "wire/ferrohsm_wire.pb.h"

#include <cstdint>
#include <optional>
#include <string>

namespace ferrohsm::wire {

// Function indexes from here up are the server's own calls (never PKCS#11 functions,
// whose table indexes stay far below).
inline constexpr uint32_t kFirstServerFunction = 0x10000;
// The server status (ServerStatus in the Return); admin peers only.
inline constexpr uint32_t kServerStatusFunction = 0x10000;

// Capabilities a server announces in its HelloReply.
inline constexpr const char* kCapabilityServerStatus = "server-status";

// The largest Hello or HelloReply either side reads before the handshake is done:
// a peer that announces more is not speaking this protocol.
inline constexpr uint32_t kMaxHelloFrame = 64 * 1024;

// "ferrohsm 0.1.0": the software field of Hellos, for the other side's logs.
std::string software_version();

// The Hello this side sends.
Hello make_hello(uint64_t max_message);

// Server side, on a Hello whose magic is right: the sentence that refuses it when the
// protocol versions cannot talk, or nothing when they can.
std::optional<std::string> version_refusal(const Hello& hello);

// Client side: the reply's refusal sentence as an error (CKR_DEVICE_ERROR), or OK when
// the server accepted and speaks our major version.
Status check_hello_reply(const HelloReply& reply, const std::string& endpoint);

// Appends `message` to `out` as one frame (4-byte big-endian length, then the encoding).
// Returns the encoded size (without the header).
size_t append_frame(const google::protobuf::MessageLite& message, std::string& out);

}  // namespace ferrohsm::wire
