// The first byte of each harness's input: which call it makes. Shared with the seed
// writer (write_seeds.cc); append only, seeds name these by number.
#pragma once

#include <ferrohsm/cryptoki.h>

#include <cstdint>

namespace ferrohsm::fuzz {

// fuzz_templates
enum TemplateCall : uint8_t { kCreateObject, kGenerateKey, kGenerateKeyPair, kTemplateCalls };

// fuzz_mech_params
enum Op : uint8_t {
  kSign, kVerify, kEncrypt, kDecrypt, kDigest, kSignRecover, kVerifyRecover,
  kMessageEncrypt, kMessageDecrypt, kDerive, kUnwrap, kWrap, kGenerate, kOpCount,
};
// The mechanism flag each function wants (an input's mechanism is mapped among those).
inline constexpr CK_FLAGS kOpFlags[kOpCount] = {
    CKF_SIGN, CKF_VERIFY, CKF_ENCRYPT, CKF_DECRYPT, CKF_DIGEST, CKF_SIGN_RECOVER, CKF_VERIFY_RECOVER,
    CKF_MESSAGE_ENCRYPT, CKF_MESSAGE_DECRYPT, CKF_DERIVE, CKF_UNWRAP, CKF_WRAP, CKF_GENERATE,
};

// fuzz_op_state: what the session does before C_SetOperationState
enum StateBefore : uint8_t { kIdle, kDigesting, kSigning, kStatesBefore };

}  // namespace ferrohsm::fuzz
