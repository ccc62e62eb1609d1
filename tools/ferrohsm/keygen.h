// `ferrohsm key generate` and `ferrohsm key import`: what they take, and the
// functions the key command group calls.
#pragma once

#include "context.h"
#include "options.h"

#include <string>
#include <vector>

namespace ferrohsm::cli {

struct KeySpec {
  std::string_view name;  // "rsa:2048"
  CK_MECHANISM_TYPE mechanism;
  CK_KEY_TYPE key_type;
  CK_ULONG size;          // RSA modulus bits or secret-key bytes
  const char* curve;      // OpenSSL curve name for EC and Edwards, else nullptr
};

// The --type table; nullptr for an unknown name.
const KeySpec* find_key_spec(std::string_view name);
std::vector<std::string> key_spec_names();

struct GenerateOptions {
  TokenOptions token;
  PinFiles pins;
  std::string type;
  std::string label;
  std::string id_hex;
};

struct ImportOptions {
  TokenOptions token;
  PinFiles pins;
  std::string file;
  std::string label;
  std::string id_hex;
};

Status run_import(Context& ctx, const ImportOptions& o);

}  // namespace ferrohsm::cli
