// NIST SP 800-108 KDFs as C_DeriveKey entries, with PKCS#11's data parameters laid
// out by the caller: CKM_SP800_108_COUNTER_KDF (CK_SP800_108_KDF_PARAMS),
// CKM_SP800_108_FEEDBACK_KDF (CK_SP800_108_FEEDBACK_KDF_PARAMS, optional IV) and
// CKM_SP800_108_DOUBLE_PIPELINE_KDF (CK_SP800_108_KDF_PARAMS). Data parameters:
// the iteration variable (counter mode: a CK_SP800_108_COUNTER_FORMAT; feedback /
// pipeline: no value, it stands for K(i-1) / A(i)), an optional counter, the DKM
// length (sum of keys or of segments) and byte arrays. PRFs: HMAC with SHA-1/SHA-2/
// SHA-3 and AES-CMAC, over EVP_MAC. The layouts are arbitrary, so the loop is
// written here rather than through EVP_KDF "KBKDF" (whose layout is fixed).
// Additional derived keys are not supported (CKR_MECHANISM_PARAM_INVALID).
#include "core/mech/hash.h"
#include "core/mech/kdf_internal.h"
#include "core/mech/registry.h"

#include <vector>

namespace ferrohsm::mech {
namespace {

constexpr size_t kMaxOut = 1024;
enum class Mode { kCounter, kFeedback, kPipeline };

Error bad(const char* what) { return make_error(CKR_MECHANISM_PARAM_INVALID, what); }

struct HmacPrf {
  CK_SP800_108_PRF_TYPE prf;
  CK_MECHANISM_TYPE hash;
};

constexpr HmacPrf kHmacPrfs[] = {
    {CKM_SHA_1_HMAC, CKM_SHA_1},         {CKM_SHA224_HMAC, CKM_SHA224},       {CKM_SHA256_HMAC, CKM_SHA256},
    {CKM_SHA384_HMAC, CKM_SHA384},       {CKM_SHA512_HMAC, CKM_SHA512},       {CKM_SHA3_224_HMAC, CKM_SHA3_224},
    {CKM_SHA3_256_HMAC, CKM_SHA3_256},   {CKM_SHA3_384_HMAC, CKM_SHA3_384},   {CKM_SHA3_512_HMAC, CKM_SHA3_512},
};

struct KbkdfPrf {
  MacCtxPtr keyed;  // duplicated for every PRF call
  size_t size = 0;
};

Result<KbkdfPrf> make_prf(CK_MECHANISM_TYPE prf_type, const Key& key) {
  static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  static EVP_MAC* const cmac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
  KbkdfPrf prf;
  OSSL_PARAM params[2] = {OSSL_PARAM_construct_end(), OSSL_PARAM_construct_end()};
  EVP_MAC* mac = hmac;
  if (prf_type == CKM_AES_CMAC) {
    const size_t n = key.secret.size();
    if (n != 16 && n != 24 && n != 32) return make_error(CKR_KEY_SIZE_RANGE, "AES-CMAC PRF needs a 16, 24 or 32-byte key");
    static constexpr const char* kCiphers[3] = {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"};
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, const_cast<char*>(kCiphers[(n - 16) / 8]), 0);
    mac = cmac;
    prf.size = 16;
  } else {
    const Hash* h = nullptr;
    for (const HmacPrf& p : kHmacPrfs)
      if (p.prf == prf_type) h = hash_by_mech(p.hash);
    if (h == nullptr) return bad("unsupported SP 800-108 prfType");
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(h->name), 0);
    prf.size = h->size;
  }
  prf.keyed.reset(mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr);
  if (!prf.keyed || EVP_MAC_init(prf.keyed.get(), key.secret.data(), key.secret.size(), params) != 1)
    return ossl_error(CKR_FUNCTION_FAILED, "SP 800-108 PRF init failed");
  return prf;
}

void put_int(SecureBytes& out, uint64_t v, size_t bits, bool little) {
  const size_t n = bits / 8;
  for (size_t i = 0; i < n; ++i) {
    const size_t shift = 8 * (little ? i : n - 1 - i);
    out.push_back(shift < 64 ? static_cast<uint8_t>(v >> shift) : 0);
  }
}

Status check_width(CK_ULONG bits) {
  if (bits == 0 || bits % 8 != 0 || bits > 64) return bad("counter / DKM widths must be 8 to 64 bits, whole bytes");
  return {};
}

struct Layout {
  std::vector<CK_PRF_DATA_PARAM> params;
  bool has_iter = false;
};

Result<Layout> read_layout(const CK_PRF_DATA_PARAM* p, CK_ULONG n, Mode mode) {
  if (n == 0 || p == nullptr) return bad("SP 800-108 needs data parameters");
  Layout l;
  for (CK_ULONG i = 0; i < n; ++i) {
    const CK_PRF_DATA_PARAM& d = p[i];
    switch (d.type) {
      case CK_SP800_108_ITERATION_VARIABLE:
        if (l.has_iter) return bad("only one iteration variable is allowed");
        l.has_iter = true;
        if (mode == Mode::kCounter) {
          if (d.pValue == nullptr || d.ulValueLen != sizeof(CK_SP800_108_COUNTER_FORMAT)) return bad("counter format missing");
          FH_TRY(check_width(static_cast<const CK_SP800_108_COUNTER_FORMAT*>(d.pValue)->ulWidthInBits));
        } else if (d.pValue != nullptr || d.ulValueLen != 0) {
          return bad("the feedback / pipeline iteration variable takes no value");
        }
        break;
      case CK_SP800_108_OPTIONAL_COUNTER:
        if (mode == Mode::kCounter) return bad("counter mode has no optional counter");
        if (d.pValue == nullptr || d.ulValueLen != sizeof(CK_SP800_108_COUNTER_FORMAT)) return bad("counter format missing");
        FH_TRY(check_width(static_cast<const CK_SP800_108_COUNTER_FORMAT*>(d.pValue)->ulWidthInBits));
        break;
      case CK_SP800_108_DKM_LENGTH: {
        if (d.pValue == nullptr || d.ulValueLen != sizeof(CK_SP800_108_DKM_LENGTH_FORMAT)) return bad("DKM format missing");
        const auto* f = static_cast<const CK_SP800_108_DKM_LENGTH_FORMAT*>(d.pValue);
        if (f->dkmLengthMethod != CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS &&
            f->dkmLengthMethod != CK_SP800_108_DKM_LENGTH_SUM_OF_SEGMENTS)
          return bad("unknown DKM length method");
        FH_TRY(check_width(f->ulWidthInBits));
        break;
      }
      case CK_SP800_108_BYTE_ARRAY:
        if (d.pValue == nullptr && d.ulValueLen != 0) return bad("byte array pointer is NULL");
        break;
      default: return bad("unknown SP 800-108 data parameter type");
    }
    l.params.push_back(d);
  }
  if (!l.has_iter) return bad("SP 800-108 needs an iteration variable");
  return l;
}

// The PRF input of one iteration; `iter` is K(i-1) / A(i) (feedback / pipeline),
// omitted entirely when `fixed_only` (the pipeline's A(0)).
SecureBytes build_input(const Layout& l, Mode mode, uint64_t i, ByteView iter, uint64_t dkm_keys, uint64_t dkm_segs,
                        bool fixed_only) {
  SecureBytes in;
  for (const CK_PRF_DATA_PARAM& d : l.params) {
    if (d.type == CK_SP800_108_BYTE_ARRAY) {
      const auto* b = static_cast<const uint8_t*>(d.pValue);
      in.insert(in.end(), b, b + d.ulValueLen);
    } else if (d.type == CK_SP800_108_DKM_LENGTH) {
      const auto* f = static_cast<const CK_SP800_108_DKM_LENGTH_FORMAT*>(d.pValue);
      put_int(in, f->dkmLengthMethod == CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS ? dkm_keys : dkm_segs, f->ulWidthInBits,
              f->bLittleEndian != CK_FALSE);
    } else if (fixed_only) {
      continue;
    } else if (d.type == CK_SP800_108_OPTIONAL_COUNTER || mode == Mode::kCounter) {
      const auto* f = static_cast<const CK_SP800_108_COUNTER_FORMAT*>(d.pValue);
      put_int(in, i, f->ulWidthInBits, f->bLittleEndian != CK_FALSE);
    } else {
      in.insert(in.end(), iter.begin(), iter.end());
    }
  }
  return in;
}

Result<SecureBytes> mac(const KbkdfPrf& prf, ByteView in) {
  MacCtxPtr c(EVP_MAC_CTX_dup(prf.keyed.get()));
  SecureBytes out(prf.size);
  size_t len = 0;
  if (!c || EVP_MAC_update(c.get(), in.data(), in.size()) != 1 || EVP_MAC_final(c.get(), out.data(), &len, out.size()) != 1)
    return ossl_error(CKR_FUNCTION_FAILED, "SP 800-108 PRF failed");
  return out;
}

Result<SecureBytes> kbkdf(const CK_MECHANISM& mech, KeyPtr base, CK_ULONG value_len, const DeriveContext&) {
  FH_TRY(secret_of(base, "the SP 800-108 base key"));
  const Mode mode = mech.mechanism == CKM_SP800_108_COUNTER_KDF    ? Mode::kCounter
                    : mech.mechanism == CKM_SP800_108_FEEDBACK_KDF ? Mode::kFeedback
                                                                   : Mode::kPipeline;
  CK_SP800_108_PRF_TYPE prf_type = 0;
  const CK_PRF_DATA_PARAM* data = nullptr;
  CK_ULONG n_data = 0, n_more = 0;
  Bytes iv;
  if (mode == Mode::kFeedback) {
    FH_ASSIGN_OR_RETURN(const CK_SP800_108_FEEDBACK_KDF_PARAMS* p, mech_param<CK_SP800_108_FEEDBACK_KDF_PARAMS>(mech));
    prf_type = p->prfType, data = p->pDataParams, n_data = p->ulNumberOfDataParams, n_more = p->ulAdditionalDerivedKeys;
    if (p->pIV == nullptr && p->ulIVLen != 0) return bad("IV pointer is NULL");
    if (p->ulIVLen != 0) iv.assign(p->pIV, p->pIV + p->ulIVLen);
  } else {
    FH_ASSIGN_OR_RETURN(const CK_SP800_108_KDF_PARAMS* p, mech_param<CK_SP800_108_KDF_PARAMS>(mech));
    prf_type = p->prfType, data = p->pDataParams, n_data = p->ulNumberOfDataParams, n_more = p->ulAdditionalDerivedKeys;
  }
  if (n_more != 0) return bad("additional derived keys are not supported");
  FH_ASSIGN_OR_RETURN(Layout layout, read_layout(data, n_data, mode));
  FH_ASSIGN_OR_RETURN(size_t out_len, required_length(value_len, kMaxOut));
  FH_ASSIGN_OR_RETURN(KbkdfPrf prf, make_prf(prf_type, *base));
  const uint64_t blocks = (out_len + prf.size - 1) / prf.size;
  const uint64_t dkm_keys = uint64_t{out_len} * 8, dkm_segs = blocks * prf.size * 8;

  SecureBytes out, prev(iv.begin(), iv.end()), a;
  if (mode == Mode::kPipeline) {
    FH_ASSIGN_OR_RETURN(a, mac(prf, build_input(layout, mode, 0, {}, dkm_keys, dkm_segs, true)));
  }
  for (uint64_t i = 1; i <= blocks; ++i) {
    if (mode == Mode::kPipeline && i > 1) {
      FH_ASSIGN_OR_RETURN(a, mac(prf, a));
    }
    ByteView iter = mode == Mode::kPipeline ? ByteView(a) : ByteView(prev);
    FH_ASSIGN_OR_RETURN(SecureBytes k, mac(prf, build_input(layout, mode, i, iter, dkm_keys, dkm_segs, false)));
    out.insert(out.end(), k.begin(), k.end());
    prev = std::move(k);
  }
  out.resize(out_len);
  return out;
}

}  // namespace

void register_sp800_108(Registry& r) {
  for (CK_MECHANISM_TYPE t : {CKM_SP800_108_COUNTER_KDF, CKM_SP800_108_FEEDBACK_KDF, CKM_SP800_108_DOUBLE_PIPELINE_KDF}) {
    Entry e;
    e.type = t;
    e.info = {1, 512, CKF_DERIVE};
    e.key_types = {CKK_GENERIC_SECRET, CKK_AES, CKK_HKDF, CKK_SHA_1_HMAC, CKK_SHA224_HMAC, CKK_SHA256_HMAC,
                   CKK_SHA384_HMAC, CKK_SHA512_HMAC, CKK_SHA3_224_HMAC, CKK_SHA3_256_HMAC, CKK_SHA3_384_HMAC,
                   CKK_SHA3_512_HMAC};
    e.derive = kbkdf;
    r.add(std::move(e));
  }
}

}  // namespace ferrohsm::mech
