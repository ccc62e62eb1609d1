// What FerroHSM's bridge adds, measured in one process: SoftHSMv2 loaded directly and
// libferrohsm-pkcs11.so with a [[bridge]] to the same SoftHSMv2 token (FERROHSM_CONF),
// both at once — the bridge finds SoftHSMv2 already initialised and shares it — so the
// two paths run the same token in short alternating batches and the difference of each
// pair of batches is what the bridge adds under the same load, machine noise cancelled.
#pragma once

#include "objects.h"

namespace p11bench {

// Rows "bridge pair: <op>" (peers softhsm and bridge, ops/s: the medians of the batches)
// and "bridge pair +µs: <op>" (peer bridge, unit µs: the median of the paired differences
// per operation), for the null call, ECDSA P-256 sign and SHA-256 64 B digest.
// `direct` is SoftHSMv2's library (a.module), `bridged` FerroHSM's.
int run_bridge_pair(const ObjectArgs& a, const std::string& bridged);

// The row names.
inline const char* const kBridgePairPrefix = "bridge pair: ";
inline const char* const kBridgePairAddedPrefix = "bridge pair +µs: ";

}  // namespace p11bench
