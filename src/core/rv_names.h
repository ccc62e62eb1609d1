// The name of a CK_RV ("CKR_PIN_INCORRECT"), for logs and messages.
#pragma once

#include <ferrohsm/cryptoki.h>

namespace ferrohsm {
const char* rv_name(CK_RV rv);
}
