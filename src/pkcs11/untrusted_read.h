// Reading memory through a pointer the module cannot trust: C_Initialize's pReserved,
// which the specification makes NULL and FerroHSM's one extension reads as the string
// "ferrohsm_conf=<path>". A caller may pass anything there ((void*)1, a freed buffer, an
// unterminated array), so the bytes are copied by the kernel (process_vm_readv on this
// very process), which reports an unreadable address as an error instead of faulting.
// Nothing is read through the pointer itself.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace ferrohsm::p11 {

// The NUL-terminated string at `p`, read one page at a time: nullopt when a byte up to
// the NUL cannot be read or no NUL comes within `max` bytes. `why` says which.
std::optional<std::string> read_untrusted_cstring(const void* p, size_t max, std::string* why);

}  // namespace ferrohsm::p11
