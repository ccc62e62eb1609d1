#include "core/mech/prehash.h"

namespace ferrohsm::mech {

Status check_asym_key(const KeyPtr& key, CK_KEY_TYPE kt, bool need_private) {
  if (!key || key->pkey == nullptr || key->key_type != kt)
    return make_error(CKR_KEY_TYPE_INCONSISTENT, "the key type does not fit the mechanism");
  if (need_private && key->cls != CKO_PRIVATE_KEY)
    return make_error(CKR_KEY_TYPE_INCONSISTENT, "signing needs a private key");
  return {};
}

Error single_part_error() {
  return make_error(CKR_FUNCTION_NOT_SUPPORTED, "this mechanism is single-part only");
}

Status Prehash::init(const Hash* h) {
  if (h == nullptr) return {};
  md_.reset(EVP_MD_CTX_new());
  if (!md_ || EVP_DigestInit_ex2(md_.get(), h->md(), nullptr) != 1) return ossl_error(CKR_HOST_MEMORY, "digest init failed");
  return {};
}

Status Prehash::update(ByteView data) {
  if (!md_) return single_part_error();
  if (EVP_DigestUpdate(md_.get(), data.data(), data.size()) != 1) return ossl_error(CKR_FUNCTION_FAILED, "digest failed");
  return {};
}

Result<ByteView> Prehash::finish(ByteView more, uint8_t* buf) {
  unsigned int len = 0;
  if (EVP_DigestUpdate(md_.get(), more.data(), more.size()) != 1 || EVP_DigestFinal_ex(md_.get(), buf, &len) != 1)
    return ossl_error(CKR_FUNCTION_FAILED, "digest failed");
  return ByteView(buf, len);
}

Status PrehashSignOp::update(ByteView data) { return hash_.update(data); }

Result<size_t> PrehashSignOp::final(MutableByteView out) {
  if (!hash_.active()) return single_part_error();
  uint8_t buf[EVP_MAX_MD_SIZE];
  FH_ASSIGN_OR_RETURN(ByteView digest, hash_.finish({}, buf));
  return sign_tbs(digest, out);
}

Result<size_t> PrehashSignOp::sign(ByteView data, MutableByteView out) {
  if (!hash_.active()) return sign_tbs(data, out);
  uint8_t buf[EVP_MAX_MD_SIZE];
  FH_ASSIGN_OR_RETURN(ByteView digest, hash_.finish(data, buf));
  return sign_tbs(digest, out);
}

Status PrehashVerifyOp::update(ByteView data) { return hash_.update(data); }

Status PrehashVerifyOp::final(ByteView signature) {
  if (!hash_.active()) return single_part_error();
  uint8_t buf[EVP_MAX_MD_SIZE];
  FH_ASSIGN_OR_RETURN(ByteView digest, hash_.finish({}, buf));
  return verify_tbs(digest, signature);
}

Status PrehashVerifyOp::verify(ByteView data, ByteView signature) {
  if (!hash_.active()) return verify_tbs(data, signature);
  uint8_t buf[EVP_MAX_MD_SIZE];
  FH_ASSIGN_OR_RETURN(ByteView digest, hash_.finish(data, buf));
  return verify_tbs(digest, signature);
}

}  // namespace ferrohsm::mech
