// Helpers for the known-answer tests of the newer families (header-only, beside
// test_util.h): one-shot cipher runs through registry entries, and derivations.
#pragma once

#include "core/mech/test_util.h"

namespace ferrohsm::mech::test {

inline Result<Bytes> run_cipher(bool enc, const CK_MECHANISM& m, const KeyPtr& key, ByteView in) {
  const Entry& e = entry(m.mechanism);
  auto f = enc ? e.encrypt : e.decrypt;
  if (f == nullptr) return make_error(CKR_MECHANISM_INVALID, "no cipher");
  FH_ASSIGN_OR_RETURN(std::unique_ptr<CipherOp> op, f(m, key));
  Bytes out(op->one_shot_size(in.size()));
  FH_ASSIGN_OR_RETURN(size_t n, op->one_shot(in, out));
  out.resize(n);
  return out;
}

// Multi-part: update in `chunk` pieces, then final.
inline Result<Bytes> run_cipher_parts(bool enc, const CK_MECHANISM& m, const KeyPtr& key, ByteView in, size_t chunk) {
  const Entry& e = entry(m.mechanism);
  FH_ASSIGN_OR_RETURN(std::unique_ptr<CipherOp> op, (enc ? e.encrypt : e.decrypt)(m, key));
  Bytes out;
  for (size_t i = 0; i < in.size(); i += chunk) {
    ByteView part = in.subspan(i, std::min(chunk, in.size() - i));
    Bytes buf(op->update_size(part.size()));
    FH_ASSIGN_OR_RETURN(size_t n, op->update(part, buf));
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
  Bytes buf(op->final_size());
  FH_ASSIGN_OR_RETURN(size_t n, op->final(buf));
  out.insert(out.end(), buf.begin(), buf.begin() + n);
  return out;
}

inline Result<Bytes> run_derive(const CK_MECHANISM& m, const KeyPtr& base, CK_ULONG len, const DeriveContext& ctx = {}) {
  const Entry& e = entry(m.mechanism);
  if (e.derive == nullptr) return make_error(CKR_MECHANISM_INVALID, "no derive");
  FH_ASSIGN_OR_RETURN(SecureBytes v, e.derive(m, base, len, ctx));
  return Bytes(v.begin(), v.end());
}

inline KeyPtr raw_private(CK_KEY_TYPE kt, std::string_view oid_hex, ByteView value) {
  return must_key(key_from_attributes(CKO_PRIVATE_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(kt)},
                                                              {CKA_EC_PARAMS, hex(oid_hex)},
                                                              {CKA_VALUE, to_bytes(value)}})));
}

}  // namespace ferrohsm::mech::test
