// The byte streams under the sidecar transport (internal to src/sidecar): a connected
// unix: socket, or TLS 1.3 over a tcp: socket. One reader and one writer may use a
// stream at the same time (the transport makes sure there is at most one of each).
#pragma once

#include "base/result.h"
#include "sidecar/transport.h"
#include "wire/endpoint.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

namespace ferrohsm::sidecar {

using Clock = std::chrono::steady_clock;

class Stream {
 public:
  virtual ~Stream() = default;
  // Writes all of `data`. Errors: CKR_DEVICE_REMOVED.
  virtual Status write_all(const uint8_t* data, size_t size) = 0;
  // Reads at least one byte; waits at most until `deadline` when given. End of file is
  // an error (CKR_DEVICE_REMOVED), as is the deadline passing.
  virtual Result<size_t> read_some(uint8_t* data, size_t size, std::optional<Clock::time_point> deadline) = 0;
  // Wakes a blocked reader and writer with an error; the peer sees the connection end.
  virtual void shutdown() = 0;
  // Closes the descriptor without telling the peer (a fork child's copy).
  virtual void abandon() = 0;
};

// Connects (and for tcp:, completes the TLS handshake) before `deadline`.
// Errors: CKR_DEVICE_ERROR with what failed.
Result<std::unique_ptr<Stream>> open_stream(const wire::Endpoint& endpoint, const ConnectOptions& options,
                                            Clock::time_point deadline);

}  // namespace ferrohsm::sidecar
