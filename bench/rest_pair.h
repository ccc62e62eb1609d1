// The REST API beside PKCS#11 (issue 15, item 6): ECDSA P-256 sign of a 32-byte digest
// and AES-256-GCM encryption of 4 KiB, through ferrohsm-server's REST API over HTTPS
// (TLS 1.3, client certificate, keep-alive: one connection per client thread) and
// through the embedded PKCS#11 library on the same store and token, in one process,
// alternating per thread count. Also the p50 latency of one REST sign.
#pragma once

#include "objects.h"

#include <string>
#include <vector>

namespace p11bench {

struct RestArgs {
  ObjectArgs o;              // the embedded library (module, label, PIN)
  std::string url;           // https://127.0.0.1:PORT
  std::string cert, key, ca;  // the client certificate, its key, the server's CA
  std::vector<int> threads;  // client counts (default 1, 8)
};

// Rows "rest: <operation>" for peers rest-p11 (embedded) and rest; "rest: sign ECDSA
// P-256 p50 latency" (µs, one client).
int run_rest_pair(const RestArgs& a);

}  // namespace p11bench
