// The bytes the crypto commands and `key public` read and write: a file, or "-" for
// stdin/stdout (binary, unchanged), and PEM armour.
#pragma once

#include "base/result.h"

#include <string>

namespace ferrohsm::cli {

// At most kMaxInput bytes (the REST API's bodies are small; so is what a CLI signs).
inline constexpr size_t kMaxInput = 64 * 1024 * 1024;

Result<Bytes> read_input(const std::string& path);
Status write_output(const std::string& path, ByteView bytes);
// "-----BEGIN <what>-----", base64 in 64-character lines, "-----END <what>-----".
std::string pem_block(const std::string& what, ByteView der);

}  // namespace ferrohsm::cli
