// The ferrohsm tool's exit codes: one table from CK_RV to the process's exit status,
// so that scripts can tell a wrong PIN from a missing token from anything else.
#pragma once

#include <ferrohsm/cryptoki.h>

namespace ferrohsm::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,  // an unexpected failure inside the tool itself
  kExitUsage = 2,     // bad options, unreadable or unusable input files, no PIN source
  kExitPin = 3,       // PIN incorrect, locked, of the wrong length, or not initialised
  kExitNotFound = 4,  // no such slot, token or object
  kExitPkcs11 = 5,    // any other PKCS#11 error
  kExitAudit = 6,     // `audit verify`: the log does not hold
  kExitSignature = 7, // `verify`: the signature does not match the data
};

int exit_code_for(CK_RV rv);

}  // namespace ferrohsm::cli
