// Integrity of stored objects. Every token object row carries an HMAC-SHA256 over all
// that the store keeps of it — its indexed columns and every attribute row (type,
// sealed flag, stored bytes, in type order) — bound to the object id and the token's
// serial. Someone who can write the database but knows no PIN can then neither change,
// add, remove nor move a row undetected: a key's CKA_SENSITIVE cannot be flipped on
// disk. The MAC key is derived from the token key with HKDF-SHA256 under its own info
// string, so the token key itself is used only for sealing.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "base/object_store.h"

#include <string>

namespace ferrohsm {

inline constexpr size_t kObjectMacBytes = 32;

Result<SecureBytes> derive_object_mac_key(ByteView token_key);

Result<Bytes> object_mac(ByteView mac_key, const std::string& serial, int64_t object_id,
                         const store::ObjectMeta& meta, const std::vector<store::StoredAttr>& attrs);

// True when `row.mac` is the MAC of the row (compared in constant time).
bool object_mac_matches(ByteView mac_key, const std::string& serial, const store::ObjectRow& row);

// Whether an object may rest without a MAC: only what a public session, which has no
// token key, can write — not a private or secret key, nothing sealed, not CKA_PRIVATE,
// not CKA_TRUSTED. Such objects are MAC'd at the next login; anything else without a
// MAC was stripped of it and is refused.
bool may_lack_mac(const store::ObjectMeta& meta, const std::vector<store::StoredAttr>& attrs);

}  // namespace ferrohsm
