// What the store keeps: token rows (label, slot, PIN-wrapped token key, failure
// counters) and object rows (indexed metadata plus attributes, the sensitive ones
// sealed, and an integrity MAC). The store never sees a PIN or an unsealed secret.
#pragma once

#include "base/bytes.h"

#include <ferrohsm/cryptoki.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ferrohsm::store {

struct TokenRow {
  int64_t id = 0;
  CK_SLOT_ID slot_id = 0;
  std::string label;   // up to 32 bytes, unpadded
  std::string serial;  // 16 hex characters
  Bytes so_wrap;       // token key sealed under the SO PIN's key
  std::string so_kdf;  // "pbkdf2-sha256:<iterations>:<salt hex>"
  Bytes user_wrap;     // empty until C_InitPIN
  std::string user_kdf;
  uint32_t so_failures = 0;
  uint32_t user_failures = 0;
};

// What SqliteStore::update_token does besides replacing label, wraps and KDF parameters.
struct TokenUpdate {
  bool drop_objects = false;         // re-initialisation: every object of the token goes
  bool reset_so_failures = false;
  bool reset_user_failures = false;  // C_InitPIN unlocks the user
};

struct StoredAttr {
  CK_ATTRIBUTE_TYPE type = 0;
  Bytes value;  // sealed blob when `sealed`
  bool sealed = false;
};

// The columns lookups use; the same values are also among the attributes.
struct ObjectMeta {
  int64_t token_id = 0;
  CK_OBJECT_CLASS cls = 0;
  CK_ULONG key_type = CK_UNAVAILABLE_INFORMATION;
  Bytes label;
  Bytes ckid;
  bool is_private = false;
};

// What an object write stores besides its indexed columns: the attribute rows and the
// integrity MAC over all of it (core/object_mac.h), empty when written without the
// token key (a public session's object, MAC'd at the next login).
struct SealedObject {
  std::vector<StoredAttr> attrs;
  Bytes mac;
};

struct ObjectRow {
  int64_t id = 0;
  ObjectMeta meta;
  std::vector<StoredAttr> attrs;
  Bytes mac;  // empty: none yet
};

// An indexed lookup: each set field must match.
struct ObjectQuery {
  int64_t token_id = 0;
  std::optional<CK_OBJECT_CLASS> cls;
  std::optional<CK_ULONG> key_type;
  std::optional<Bytes> label;
  std::optional<Bytes> ckid;
  bool include_private = false;
};

struct FoundObject {
  int64_t id = 0;
  bool is_private = false;
};

enum class ChangeKind { Insert = 1, Update = 2, Delete = 3, Token = 4 };

struct Change {
  int64_t seq = 0;
  int64_t token_id = 0;
  int64_t object_id = 0;  // 0 for token-level changes
  ChangeKind kind = ChangeKind::Update;
};

}  // namespace ferrohsm::store
