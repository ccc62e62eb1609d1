// The dual-function calls (PKCS#11 3.0 §5.13 and following: C_DigestEncryptUpdate,
// C_DecryptDigestUpdate, C_SignEncryptUpdate, C_DecryptVerifyUpdate). A call is the
// two updates, taken by the same steps as the single calls (op_steps.h) under one
// lock: the cipher's, with its output-length convention, and the digest's,
// signature's or verification's over the plaintext — the input when encrypting, the
// output when decrypting. As the specification says, when the call delivers no
// output (an error, a length query, CKR_BUFFER_TOO_SMALL) no plaintext is passed to
// the other operation; the retry that collects the output kept after
// CKR_BUFFER_TOO_SMALL passes it.
#include "core/hsm.h"
#include "core/op_steps.h"

#include <mutex>

namespace ferrohsm {

Status Hsm::dual_update(DualKind d, CK_SESSION_HANDLE h, ByteView in, OutBuf out) {
  FH_ASSIGN_OR_RETURN(SessionPtr s, session(h));
  std::lock_guard<std::mutex> lock(s->mu);
  const DualOps ops = dual_ops(d);
  const bool encrypt = ops.cipher == OpKind::Encrypt;
  std::optional<CipherState>& cipher = encrypt ? s->encrypt : s->decrypt;
  if (!cipher) return s->not_active(ops.cipher, "the cipher operation was not initialised");
  const bool other_active = ops.other == OpKind::Sign     ? s->sign.has_value()
                            : ops.other == OpKind::Verify ? s->verify.has_value()
                                                          : s->digest.has_value();
  if (!other_active) return s->not_active(ops.other, "the digest, signature or verification was not initialised");
  auto other_ready = [&]() -> Status {
    switch (ops.other) {
      case OpKind::Sign: return steps::ready(s->sign, Form::kMultiPart);
      case OpKind::Verify: return steps::ready(s->verify, Form::kMultiPart);
      default: return steps::ready(s->digest, Form::kMultiPart);
    }
  };
  auto other_update = [&](ByteView plain) -> Status {
    switch (ops.other) {
      case OpKind::Sign: return steps::sign_update(s->sign, plain);
      case OpKind::Verify: return steps::verify_update(s->verify, plain);
      default: return steps::digest_update(s->digest, plain);
    }
  };
  // Both must be able to take the part before either does.
  FH_TRY(steps::ready(cipher, Form::kMultiPart));
  FH_TRY(other_ready());
  std::optional<ByteView> delivered;
  Status st = steps::cipher_update(cipher, in, out, &delivered);
  if (delivered) FH_TRY(other_update(encrypt ? in : *delivered));
  return st;
}

}  // namespace ferrohsm
