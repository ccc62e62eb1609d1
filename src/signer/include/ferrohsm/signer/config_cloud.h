// The cloud providers' settings as one table each for text and numbers: every row is a
// TOML key and a flag at once (config.cc reads the keys from here, the daemon's command
// line the flags). A cloud secret never has a flag: the Azure client secret comes from a
// file or AZURE_CLIENT_SECRET.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "ferrohsm/signer/config.h"

namespace ferrohsm::signer {

struct CloudText {
  std::string_view key;   // TOML "aws_kms.region"
  std::string_view flag;  // "--aws-region"
  std::string_view help;
  void (*set)(Config&, const std::string&);
};

struct CloudNumber {
  std::string_view key;
  std::string_view flag;
  std::string_view help;
  int min, max;
  void (*set)(Config&, int);
};

std::span<const CloudText> cloud_text_settings();
std::span<const CloudNumber> cloud_number_settings();

}  // namespace ferrohsm::signer
