// The one table of mechanism parameters on the wire: for each mechanism, whether its
// parameter is a structure (and which Layout), plain bytes (an IV), or nothing. The
// message-based calls' per-message parameters are here too, by the mechanism of the
// operation they belong to. A mechanism that is in no row may carry no parameter
// across the wire (the server answers CKR_MECHANISM_PARAM_INVALID): a structure with
// pointers must never be passed on as raw bytes.
#pragma once

#include "wire/layout.h"

namespace ferrohsm::wire {

enum class ParamKind { None, Bytes, Struct };

struct ParamSpec {
  ParamKind kind = ParamKind::None;
  const Layout* layout = nullptr;  // Struct only
};

// The parameter of C_*Init, C_GenerateKey*, C_WrapKey, C_UnwrapKey, C_DeriveKey.
ParamSpec mechanism_param(CK_MECHANISM_TYPE type);
// The per-message parameter of C_EncryptMessage …, C_SignMessage … for an operation
// started with `type` (CK_GCM_MESSAGE_PARAMS for CKM_AES_GCM …).
ParamSpec message_param(CK_MECHANISM_TYPE type);

// The structures of the CK_*_INFO outputs.
const Layout& info_layout();           // CK_INFO
const Layout& slot_info_layout();      // CK_SLOT_INFO
const Layout& token_info_layout();     // CK_TOKEN_INFO
const Layout& session_info_layout();   // CK_SESSION_INFO
const Layout& mechanism_info_layout(); // CK_MECHANISM_INFO

}  // namespace ferrohsm::wire
