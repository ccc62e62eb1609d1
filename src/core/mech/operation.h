// The operations a mechanism provides, as the session drives them. The session
// handles the PKCS#11 calling conventions (length queries, CKR_BUFFER_TOO_SMALL,
// operation lifetime); an operation only computes. Every `out` span passed in is at
// least as large as the size the operation reported for that step.
//
// Re-arming: an operation that says reusable() can, once it finished, be started
// again by rearm() for the same mechanism type and key with new parameters (an IV, a
// tag length …), exactly as its factory would have started a new one — the same
// parameter checks and errors — but keeping its OpenSSL context (key schedule,
// fetched algorithm). The session keeps a finished operation for the next *Init on
// the same key object (session.h SpareOp), which takes the per-call allocation,
// context duplication and algorithm reference counting off small messages.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <memory>
#include <thread>

namespace ferrohsm::mech {

// What every kind of operation has: re-arming, and the thread that made it (its
// OpenSSL contexts came from that thread's heap; session.h SpareOp moves a kept
// operation to the thread that now uses it).
class Operation {
 public:
  virtual ~Operation() = default;
  virtual bool reusable() const { return false; }
  virtual Status rearm(const CK_MECHANISM&) { return make_error(CKR_GENERAL_ERROR, "this operation cannot be re-armed"); }
  std::thread::id home() const { return home_; }

 private:
  const std::thread::id home_ = std::this_thread::get_id();
};

class SignOp : public Operation {
 public:
  // Exact signature length (RSA: modulus bytes; ECDSA: 2 × field bytes; EdDSA: 64/114; HMAC: tag length).
  virtual size_t signature_size() const = 0;
  virtual bool multipart() const { return true; }  // false for CKM_RSA_PKCS, CKM_ECDSA, CKM_EDDSA (single-part only)
  virtual Status update(ByteView data) = 0;
  virtual Result<size_t> final(MutableByteView out) = 0;
  // One-shot over `data` (for single-part mechanisms the only path).
  virtual Result<size_t> sign(ByteView data, MutableByteView out) = 0;
};

class VerifyOp : public Operation {
 public:
  virtual size_t signature_size() const = 0;
  virtual bool multipart() const { return true; }
  virtual Status update(ByteView data) = 0;
  // CKR_SIGNATURE_INVALID or CKR_SIGNATURE_LEN_RANGE on a bad signature.
  virtual Status final(ByteView signature) = 0;
  virtual Status verify(ByteView data, ByteView signature) = 0;
};

// Encryption or decryption (fixed at creation).
class CipherOp : public Operation {
 public:
  virtual bool multipart() const { return true; }
  // Upper bound of the output of update() for `in_len` more input bytes.
  virtual size_t update_size(size_t in_len) const = 0;
  // Upper bound of the output of final().
  virtual size_t final_size() const = 0;
  // Upper bound of the output of one_shot() for `in_len` bytes.
  virtual size_t one_shot_size(size_t in_len) const = 0;
  virtual Result<size_t> update(ByteView in, MutableByteView out) = 0;
  virtual Result<size_t> final(MutableByteView out) = 0;
  virtual Result<size_t> one_shot(ByteView in, MutableByteView out) = 0;
};

class DigestOp : public Operation {
 public:
  virtual size_t digest_size() const = 0;
  virtual Status update(ByteView data) = 0;
  virtual Result<size_t> final(MutableByteView out) = 0;
  virtual Result<size_t> digest(ByteView data, MutableByteView out) = 0;
};

}  // namespace ferrohsm::mech
