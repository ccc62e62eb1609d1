// C_GetOperationState / C_SetOperationState (PKCS#11 3.0 §5.6) for digests. OpenSSL
// cannot serialise a hash context, so the saved state is the mechanism and the input
// so far (at most DigestState::kMaxSavedInput bytes), and restoring replays it. A
// state holds no secret: after C_DigestKey, or for any keyed operation, the answer is
// CKR_STATE_UNSAVEABLE. Layout: "FHOS", version 1, kind 1 (digest), updated flag,
// mechanism (8 bytes big-endian), input length (4 bytes big-endian), input.
#include "core/hsm.h"
#include "core/out_buf.h"

#include <cstring>

namespace ferrohsm {
namespace {

constexpr uint8_t kMagic[4] = {'F', 'H', 'O', 'S'};
constexpr uint8_t kVersion = 1;
constexpr uint8_t kKindDigest = 1;
constexpr size_t kHeader = 4 + 1 + 1 + 1 + 8 + 4;

Error invalid(const char* why) { return make_error(CKR_SAVED_STATE_INVALID, why); }

}  // namespace

Status Hsm::get_operation_state(CK_SESSION_HANDLE h, OutBuf out) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->keyed_operation_active()) return make_error(CKR_STATE_UNSAVEABLE, "only digest operations can be saved");
  if (!s->digest) return make_error(CKR_OPERATION_NOT_INITIALIZED, "no operation is active");
  const DigestState& d = *s->digest;
  if (!d.saveable) return make_error(CKR_STATE_UNSAVEABLE, "the digest took a key or more input than can be saved");
  const size_t need = kHeader + d.input.size();
  Status answer;
  if (!room_for(out, need, answer)) return answer;
  uint8_t* p = out.data;
  std::memcpy(p, kMagic, 4);
  p[4] = kVersion;
  p[5] = kKindDigest;
  p[6] = d.form == Form::kMultiPart ? 1 : 0;
  for (int i = 0; i < 8; ++i) p[7 + i] = static_cast<uint8_t>(static_cast<uint64_t>(d.mechanism) >> (56 - 8 * i));
  const auto n = static_cast<uint32_t>(d.input.size());
  for (int i = 0; i < 4; ++i) p[15 + i] = static_cast<uint8_t>(n >> (24 - 8 * i));
  if (n != 0) std::memcpy(p + kHeader, d.input.data(), n);
  *out.len = need;
  return {};
}

Status Hsm::set_operation_state(CK_SESSION_HANDLE h, ByteView state, CK_OBJECT_HANDLE enc_key,
                                CK_OBJECT_HANDLE auth_key) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  if (state.size() < kHeader || std::memcmp(state.data(), kMagic, 4) != 0) return invalid("not a FerroHSM saved state");
  if (state[4] != kVersion || state[5] != kKindDigest || state[6] > 1) return invalid("unknown saved-state version");
  uint64_t mech = 0;
  for (int i = 0; i < 8; ++i) mech = (mech << 8) | state[7 + i];
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = (n << 8) | state[15 + i];
  if (n > DigestState::kMaxSavedInput || state.size() != kHeader + n) return invalid("saved state has the wrong length");
  if (enc_key != CK_INVALID_HANDLE || auth_key != CK_INVALID_HANDLE)
    return make_error(CKR_KEY_NOT_NEEDED, "a digest state needs no key");
  const auto type = static_cast<CK_MECHANISM_TYPE>(mech);
  const mech::Entry* e = registry().find(type);
  if (e == nullptr || e->digest == nullptr)
    return invalid("the saved state names no digest this token offers");
  CK_MECHANISM m{type, nullptr, 0};
  FH_ASSIGN_OR_RETURN(std::unique_ptr<mech::DigestOp> op, e->digest(m));
  ByteView input = state.subspan(kHeader, n);
  FH_TRY(op->update(input));
  DigestState restored{std::move(op), state[6] == 1 ? Form::kMultiPart : Form::kUndecided, type, true,
                       to_secure(input)};
  std::lock_guard<std::mutex> lock(s->mu);
  // The state is the session's whole operation state: what it does not hold ends.
  s->sign.reset();
  s->verify.reset();
  s->encrypt.reset();
  s->decrypt.reset();
  s->sign_recover.reset();
  s->verify_recover.reset();
  s->message_encrypt.reset();
  s->message_decrypt.reset();
  s->digest = std::move(restored);
  return {};
}

}  // namespace ferrohsm
