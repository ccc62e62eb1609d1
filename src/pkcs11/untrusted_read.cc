#include "pkcs11/untrusted_read.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ferrohsm::p11 {
namespace {

// Copies n bytes at `p` into `out` through the kernel; errno on failure (EFAULT for an
// unmapped address, EPERM/ENOSYS where a sandbox forbids the call).
bool copy_from_self(const void* p, size_t n, void* out) {
  iovec local{out, n};
  iovec remote{const_cast<void*>(p), n};
  ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  if (got >= 0 && static_cast<size_t>(got) != n) errno = EFAULT;  // the tail was unreadable
  return got >= 0 && static_cast<size_t>(got) == n;
}

}  // namespace

std::optional<std::string> read_untrusted_cstring(const void* p, size_t max, std::string* why) {
  if (p == nullptr) {
    *why = "NULL";
    return std::nullopt;
  }
  const long page_size = sysconf(_SC_PAGESIZE);
  const size_t page = page_size > 0 ? static_cast<size_t>(page_size) : 4096;
  std::vector<char> buf(page);
  std::string out;
  uintptr_t at = reinterpret_cast<uintptr_t>(p);
  // One read per page: a readable page is copied whole, an unreadable one fails whole,
  // so a string that ends just before an unmapped page is read without touching it.
  while (out.size() <= max) {
    const size_t chunk = page - at % page;
    if (!copy_from_self(reinterpret_cast<const void*>(at), chunk, buf.data())) {
      *why = errno == EFAULT ? "points to memory that cannot be read"
                             : std::string("cannot be read safely here (process_vm_readv: ") + std::strerror(errno) +
                                   "); use FERROHSM_CONF instead";
      return std::nullopt;
    }
    if (const void* nul = std::memchr(buf.data(), '\0', chunk)) {
      out.append(buf.data(), static_cast<size_t>(static_cast<const char*>(nul) - buf.data()));
      if (out.size() <= max) return out;
      break;
    }
    out.append(buf.data(), chunk);
    at += chunk;
  }
  *why = "is not a NUL-terminated string of at most " + std::to_string(max) + " bytes";
  return std::nullopt;
}

}  // namespace ferrohsm::p11
