// How many messages a call puts on the wire, counted by the kernel: the TCP
// connections this process holds (a sidecar over tcp:) report the segments carrying
// data each way (TCP_INFO), read before and after each call. A module that talks
// to nothing over TCP (embedded, unix: sockets) gets n/a rows.
#pragma once

#include "objects.h"

namespace p11bench {

// Rows "wire: messages sent|received per <call>" (unit msgs, mean over the calls):
// C_GetSessionInfo, C_SignInit, C_Sign with a right-sized buffer (ECDSA P-256), and
// C_Sign asked for the length first (NULL buffer) then called again.
int run_round_trips(const ObjectArgs& a);

}  // namespace p11bench
