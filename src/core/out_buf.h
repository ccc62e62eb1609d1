// PKCS#11's output-buffer convention, in one place for every operation that
// produces bytes: a NULL buffer asks for the length, a short one gets
// CKR_BUFFER_TOO_SMALL with the length needed, and neither ends the operation.
#pragma once

#include "core/hsm.h"

#include <cstring>
#include <optional>

namespace ferrohsm {

// For a result of exactly `need` bytes. Returns true
// when the caller's buffer can take it; otherwise `st` holds the answer to return
// (CKR_OK for a length query, CKR_BUFFER_TOO_SMALL) and *len the length needed.
inline bool room_for(OutBuf out, size_t need, Status& st) {
  if (out.data == nullptr) {
    *out.len = need;
    st = Status();
    return false;
  }
  if (*out.len < need) {
    *out.len = need;
    st = make_error(CKR_BUFFER_TOO_SMALL, "output buffer too small");
    return false;
  }
  return true;
}

// Runs a cipher step whose output size is only bounded (`bound`), honouring the
// length convention: the result of a call whose buffer was too small is kept in
// `pending` and handed out on the retry. `delivered`, when given, is set to the output
// this call placed in the caller's buffer (not on a length query, nor when the
// output is kept for the retry).
template <typename F>
Status cipher_step(CipherState& c, size_t bound, OutBuf out, bool& done, F&& run,
                   std::optional<ByteView>* delivered = nullptr) {
  done = false;
  if (c.pending) {
    Status st;
    if (!room_for(out, c.pending->size(), st)) return st;
    std::memcpy(out.data, c.pending->data(), c.pending->size());
    *out.len = c.pending->size();
    c.pending.reset();
    done = true;
    if (delivered != nullptr) *delivered = ByteView(out.data, *out.len);
    return {};
  }
  if (out.data == nullptr) {
    *out.len = bound;
    return {};
  }
  if (*out.len >= bound) {
    auto n = run(MutableByteView(out.data, bound));
    if (!n.ok()) {
      done = true;
      return n.error();
    }
    *out.len = *n;
    done = true;
    if (delivered != nullptr) *delivered = ByteView(out.data, *n);
    return {};
  }
  SecureBytes tmp(bound);
  auto n = run(MutableByteView(tmp.data(), tmp.size()));
  if (!n.ok()) {
    done = true;
    return n.error();
  }
  if (*n <= *out.len) {
    std::memcpy(out.data, tmp.data(), *n);
    *out.len = *n;
    done = true;
    if (delivered != nullptr) *delivered = ByteView(out.data, *n);
    return {};
  }
  tmp.resize(*n);
  c.pending = std::move(tmp);
  *out.len = *n;
  return make_error(CKR_BUFFER_TOO_SMALL, "output buffer too small");
}


}  // namespace ferrohsm
