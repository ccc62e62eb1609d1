// Base classes for asymmetric sign / verify operations: the data is optionally
// hashed first (CKM_SHA256_RSA_PKCS, CKM_ECDSA_SHA384 … — multi-part) and the
// primitive is then applied to the digest; without a hash (CKM_RSA_PKCS, CKM_ECDSA,
// CKM_RSA_PKCS_PSS) the mechanism is single-part and the primitive takes the input
// as given. Also the key checks shared by every factory.
#pragma once

#include "core/mech/hash.h"
#include "core/mech/key.h"
#include "core/mech/operation.h"
#include "core/mech/ossl.h"

namespace ferrohsm::mech {

// CKR_KEY_TYPE_INCONSISTENT unless `key` has type `kt` and, when `need_private`,
// is a private key (signing); any asymmetric key of the type may verify.
Status check_asym_key(const KeyPtr& key, CK_KEY_TYPE kt, bool need_private);

// The optional hash in front of the primitive.
class Prehash {
 public:
  Status init(const Hash* h);  // nullptr: no hashing
  bool active() const { return md_ != nullptr; }
  Status update(ByteView data);
  // Hashes what was fed (plus `more`) into `buf` (EVP_MAX_MD_SIZE bytes); returns the digest.
  Result<ByteView> finish(ByteView more, uint8_t* buf);

 private:
  MdCtxPtr md_;
};

class PrehashSignOp : public SignOp {
 public:
  bool multipart() const override { return hash_.active(); }
  Status update(ByteView data) override;
  Result<size_t> final(MutableByteView out) override;
  Result<size_t> sign(ByteView data, MutableByteView out) override;

 protected:
  Status init_prehash(const Hash* h) { return hash_.init(h); }
  // `tbs` is the digest, or the caller's input for single-part mechanisms.
  virtual Result<size_t> sign_tbs(ByteView tbs, MutableByteView out) = 0;

 private:
  Prehash hash_;
};

class PrehashVerifyOp : public VerifyOp {
 public:
  bool multipart() const override { return hash_.active(); }
  Status update(ByteView data) override;
  Status final(ByteView signature) override;
  Status verify(ByteView data, ByteView signature) override;

 protected:
  Status init_prehash(const Hash* h) { return hash_.init(h); }
  virtual Status verify_tbs(ByteView tbs, ByteView signature) = 0;

 private:
  Prehash hash_;
};

// The error of update()/final() on a single-part operation.
Error single_part_error();

}  // namespace ferrohsm::mech
