// The software provider's seed file: 32 raw bytes, mode 0600 (the mounted-secret case).
#pragma once

#include <string>

#include "ferrohsm/signer/errors.h"
#include "ferrohsm/signer/secret_bytes.h"

namespace ferrohsm::signer {

inline constexpr std::size_t kSeedSize = 32;

// Reads exactly 32 bytes. Missing file, other size, or unreadable → kInvalidArgument.
Result<SecretBytes<kSeedSize>> read_seed_file(const std::string& path);

// Creates the file with 32 random bytes and mode 0600 if it does not exist (parent
// directories with 0700). Returns true when it created the file.
Result<bool> ensure_seed_file(const std::string& path);

}  // namespace ferrohsm::signer
