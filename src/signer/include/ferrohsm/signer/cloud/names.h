// Scope and key id inside a cloud resource name. KMS alias names ([A-Za-z0-9/_-]) and
// Cloud KMS key ids ([A-Za-z0-9_-]) have no '.', which scopes and key ids may hold, so
// '_' and '.' are written "_5f" and "_2e" (hex, like percent-encoding with '_'): the
// mapping stays one-to-one and readable ("payments.eu" → "payments_2eeu").
#pragma once

#include <string>
#include <string_view>

namespace ferrohsm::signer::cloud {

std::string escape_name_part(std::string_view text);

}  // namespace ferrohsm::signer::cloud
