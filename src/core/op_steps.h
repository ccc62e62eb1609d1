// The steps of the sign, verify, cipher and digest operations, with PKCS#11's rules
// (3.0 §5.2 and the function descriptions), on one operation state of a session
// whose mutex the caller holds:
//  - a call of the other form than the one the operation took (C_Encrypt after
//    C_EncryptUpdate, C_EncryptUpdate after a length-query C_Encrypt …) answers
//    CKR_OPERATION_ACTIVE and changes nothing;
//  - a length query and CKR_BUFFER_TOO_SMALL leave the operation as it was (and feed
//    it nothing: the caller repeats the call with the same input);
//  - the call that finishes, and any other failure, end it (reset the state).
// The Hsm methods check that the operation is active, then take one step; the
// dual-function calls (hsm_dual.cc) and the message-based signatures
// (hsm_message_sign.cc) take the same steps.
#pragma once

#include "core/hsm.h"

#include <optional>

namespace ferrohsm::steps {

// Whether the operation can take a call of `form` now: CKR_OPERATION_ACTIVE for the
// other form, CKR_USER_NOT_LOGGED_IN before a context-specific login (both keep the
// operation), CKR_FUNCTION_NOT_SUPPORTED for a multi-part call to a single-part
// mechanism and CKR_KEY_HANDLE_INVALID once the key was destroyed (both end it).
Status ready(std::optional<SignState>& st, Form form);
Status ready(std::optional<VerifyState>& st, Form form);
Status ready(std::optional<CipherState>& st, Form form);
Status ready(std::optional<DigestState>& st, Form form);

Status sign(std::optional<SignState>& st, ByteView data, OutBuf sig);
Status sign_update(std::optional<SignState>& st, ByteView data);
Status sign_final(std::optional<SignState>& st, OutBuf sig);

Status verify(std::optional<VerifyState>& st, ByteView data, ByteView sig);
Status verify_update(std::optional<VerifyState>& st, ByteView data);
Status verify_final(std::optional<VerifyState>& st, ByteView sig);

Status cipher(std::optional<CipherState>& st, ByteView in, OutBuf out);
// With `delivered`, it is set to the output this call placed in the caller's buffer;
// it stays empty when the call delivered nothing (an error, a length query,
// CKR_BUFFER_TOO_SMALL — the output then waits for the retry, which delivers it).
Status cipher_update(std::optional<CipherState>& st, ByteView in, OutBuf out,
                     std::optional<ByteView>* delivered = nullptr);
Status cipher_final(std::optional<CipherState>& st, OutBuf out);

Status digest(std::optional<DigestState>& st, ByteView data, OutBuf out);
Status digest_update(std::optional<DigestState>& st, ByteView data);
Status digest_final(std::optional<DigestState>& st, OutBuf out);

}  // namespace ferrohsm::steps
