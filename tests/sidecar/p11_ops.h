// The few PKCS#11 steps the sidecar tests repeat, shared by the test programs and the
// helper application (sidecar_app.cc): load the module, initialise it with a given
// configuration file, make a token with a signing key, log in, sign. Plain functions
// returning CK_RV (no gtest here: the helper runs them in a child process).
#pragma once

#include <ferrohsm/cryptoki.h>

#include <string>
#include <vector>

namespace ferrohsm::sidecar_test {

inline constexpr char kSoPin[] = "so-pin-1234";
inline constexpr char kUserPin[] = "user-pin-5678";
inline constexpr char kKeyLabel[] = "sc-key";

// dlopen of the module (once per process; never closed). Aborts when it cannot load.
CK_FUNCTION_LIST_3_0* load_module(const std::string& path);

// C_Initialize with FerroHSM's pReserved extension naming the configuration file.
CK_RV initialize(CK_FUNCTION_LIST_3_0* f, const std::string& conf);

// The slot holding the token labelled `label`; CKR_TOKEN_NOT_PRESENT when none does.
CK_RV find_slot(CK_FUNCTION_LIST_3_0* f, const std::string& label, CK_SLOT_ID& slot);

// A token `label` in the first free slot, its user PIN set, and an EC P-256 key pair
// labelled kKeyLabel on it (needs an admin peer).
CK_RV make_token(CK_FUNCTION_LIST_3_0* f, const std::string& label);

// A serial session on the token `label`, logged in as the user.
CK_RV open_and_login(CK_FUNCTION_LIST_3_0* f, const std::string& label, CK_SESSION_HANDLE& session);

// ECDSA-SHA256 with the kKeyLabel private key, then C_Verify with its public key:
// CKR_OK only when both answered CKR_OK (and a signature of other data is refused).
CK_RV sign_and_verify(CK_FUNCTION_LIST_3_0* f, CK_SESSION_HANDLE session, const std::string& data);

// C_Digest (SHA-256) of `data`.
CK_RV digest(CK_FUNCTION_LIST_3_0* f, CK_SESSION_HANDLE session, const std::string& data,
             std::vector<unsigned char>& out);

}  // namespace ferrohsm::sidecar_test
