#include "common/mech_params.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <iterator>

#include "common/module.h"
#include "common/templates.h"

namespace ferrohsm::fuzz {
namespace {

enum class Kind {
  kUlong,        // CK_ULONG at off
  kBool,         // CK_BBOOL at off (any byte value)
  kKey,          // CK_OBJECT_HANDLE at off, from Module::key
  kBytes,        // pointer at off, its CK_ULONG length at aux
  kInline,       // aux bytes inside the struct at off
  kTagBits,      // pointer at off to (bits at aux) / 8 bytes: the bits, then the bytes
  kFixedBuffer,  // pointer at off to a buffer of aux bytes
  kPrfData,      // CK_PRF_DATA_PARAM array at off, its count at aux
  kDerivedKeys,  // CK_DERIVED_KEY array at off, its count at aux
  kIterations,   // CK_ULONG iteration count at off (see below)
};

struct Field {
  Kind kind;
  size_t off;
  size_t aux = 0;
};

struct Layout {
  size_t size;
  std::vector<Field> fields;
};

#define F(kind, type, member) Field{Kind::kind, offsetof(type, member)}
#define P(type, ptr, len) Field{Kind::kBytes, offsetof(type, ptr), offsetof(type, len)}
#define A(kind, type, ptr, aux) Field{Kind::kind, offsetof(type, ptr), offsetof(type, aux)}

const Layout& layout(LayoutId id) {
  static const Layout kLayouts[] = {  // in LayoutId order
      /* kRsaPss */ {sizeof(CK_RSA_PKCS_PSS_PARAMS),
                   {F(kUlong, CK_RSA_PKCS_PSS_PARAMS, hashAlg), F(kUlong, CK_RSA_PKCS_PSS_PARAMS, mgf),
                    F(kUlong, CK_RSA_PKCS_PSS_PARAMS, sLen)}},
      /* kRsaOaep */ {sizeof(CK_RSA_PKCS_OAEP_PARAMS),
                    {F(kUlong, CK_RSA_PKCS_OAEP_PARAMS, hashAlg), F(kUlong, CK_RSA_PKCS_OAEP_PARAMS, mgf),
                     F(kUlong, CK_RSA_PKCS_OAEP_PARAMS, source),
                     P(CK_RSA_PKCS_OAEP_PARAMS, pSourceData, ulSourceDataLen)}},
      /* kAesCtr */ {sizeof(CK_AES_CTR_PARAMS),
                   {F(kUlong, CK_AES_CTR_PARAMS, ulCounterBits),
                    Field{Kind::kInline, offsetof(CK_AES_CTR_PARAMS, cb), 16}}},
      /* kGcm */ {sizeof(CK_GCM_PARAMS),
                {P(CK_GCM_PARAMS, pIv, ulIvLen), F(kUlong, CK_GCM_PARAMS, ulIvBits), P(CK_GCM_PARAMS, pAAD, ulAADLen),
                 F(kUlong, CK_GCM_PARAMS, ulTagBits)}},
      /* kCcm */ {sizeof(CK_CCM_PARAMS),
                {F(kUlong, CK_CCM_PARAMS, ulDataLen), P(CK_CCM_PARAMS, pNonce, ulNonceLen),
                 P(CK_CCM_PARAMS, pAAD, ulAADLen), F(kUlong, CK_CCM_PARAMS, ulMACLen)}},
      /* kChaCha20Poly1305 */ {sizeof(CK_SALSA20_CHACHA20_POLY1305_PARAMS),
                             {P(CK_SALSA20_CHACHA20_POLY1305_PARAMS, pNonce, ulNonceLen),
                              P(CK_SALSA20_CHACHA20_POLY1305_PARAMS, pAAD, ulAADLen)}},
      /* kEdDsa */ {sizeof(CK_EDDSA_PARAMS),
                  {F(kBool, CK_EDDSA_PARAMS, phFlag), P(CK_EDDSA_PARAMS, pContextData, ulContextDataLen)}},
      /* kMacGeneral */ {sizeof(CK_MAC_GENERAL_PARAMS), {Field{Kind::kUlong, 0}}},
      /* kEcdh1Derive */ {sizeof(CK_ECDH1_DERIVE_PARAMS),
                        {F(kUlong, CK_ECDH1_DERIVE_PARAMS, kdf),
                         P(CK_ECDH1_DERIVE_PARAMS, pSharedData, ulSharedDataLen),
                         P(CK_ECDH1_DERIVE_PARAMS, pPublicData, ulPublicDataLen)}},
      /* kHkdf */ {sizeof(CK_HKDF_PARAMS),
                 {F(kBool, CK_HKDF_PARAMS, bExtract), F(kBool, CK_HKDF_PARAMS, bExpand),
                  F(kUlong, CK_HKDF_PARAMS, prfHashMechanism), F(kUlong, CK_HKDF_PARAMS, ulSaltType),
                  P(CK_HKDF_PARAMS, pSalt, ulSaltLen), F(kKey, CK_HKDF_PARAMS, hSaltKey),
                  P(CK_HKDF_PARAMS, pInfo, ulInfoLen)}},
      /* kSp800108 */ {sizeof(CK_SP800_108_KDF_PARAMS),
                     {F(kUlong, CK_SP800_108_KDF_PARAMS, prfType),
                      A(kPrfData, CK_SP800_108_KDF_PARAMS, pDataParams, ulNumberOfDataParams),
                      A(kDerivedKeys, CK_SP800_108_KDF_PARAMS, pAdditionalDerivedKeys, ulAdditionalDerivedKeys)}},
      /* kSp800108Feedback */ {sizeof(CK_SP800_108_FEEDBACK_KDF_PARAMS),
                             {F(kUlong, CK_SP800_108_FEEDBACK_KDF_PARAMS, prfType),
                              A(kPrfData, CK_SP800_108_FEEDBACK_KDF_PARAMS, pDataParams, ulNumberOfDataParams),
                              P(CK_SP800_108_FEEDBACK_KDF_PARAMS, pIV, ulIVLen),
                              A(kDerivedKeys, CK_SP800_108_FEEDBACK_KDF_PARAMS, pAdditionalDerivedKeys,
                                ulAdditionalDerivedKeys)}},
      /* kPbkdf2 */ {sizeof(CK_PKCS5_PBKD2_PARAMS2),
                   {F(kUlong, CK_PKCS5_PBKD2_PARAMS2, saltSource),
                    P(CK_PKCS5_PBKD2_PARAMS2, pSaltSourceData, ulSaltSourceDataLen),
                    F(kIterations, CK_PKCS5_PBKD2_PARAMS2, iterations), F(kUlong, CK_PKCS5_PBKD2_PARAMS2, prf),
                    P(CK_PKCS5_PBKD2_PARAMS2, pPrfData, ulPrfDataLen),
                    P(CK_PKCS5_PBKD2_PARAMS2, pPassword, ulPasswordLen)}},
      /* kKeyDerivationString */ {sizeof(CK_KEY_DERIVATION_STRING_DATA),
                                {P(CK_KEY_DERIVATION_STRING_DATA, pData, ulLen)}},
      /* kAesCbcEncryptData */ {sizeof(CK_AES_CBC_ENCRYPT_DATA_PARAMS),
                              {Field{Kind::kInline, offsetof(CK_AES_CBC_ENCRYPT_DATA_PARAMS, iv), 16},
                               P(CK_AES_CBC_ENCRYPT_DATA_PARAMS, pData, length)}},
      /* kDes3CbcEncryptData */ {sizeof(CK_DES_CBC_ENCRYPT_DATA_PARAMS),
                               {Field{Kind::kInline, offsetof(CK_DES_CBC_ENCRYPT_DATA_PARAMS, iv), 8},
                                P(CK_DES_CBC_ENCRYPT_DATA_PARAMS, pData, length)}},
      /* kObjectHandle */ {sizeof(CK_OBJECT_HANDLE), {Field{Kind::kKey, 0}}},
      /* kGcmMessage */ {sizeof(CK_GCM_MESSAGE_PARAMS),
                       {P(CK_GCM_MESSAGE_PARAMS, pIv, ulIvLen), F(kUlong, CK_GCM_MESSAGE_PARAMS, ulIvFixedBits),
                        F(kUlong, CK_GCM_MESSAGE_PARAMS, ivGenerator),
                        A(kTagBits, CK_GCM_MESSAGE_PARAMS, pTag, ulTagBits)}},
      /* kCcmMessage */ {sizeof(CK_CCM_MESSAGE_PARAMS),
                       {F(kUlong, CK_CCM_MESSAGE_PARAMS, ulDataLen), P(CK_CCM_MESSAGE_PARAMS, pNonce, ulNonceLen),
                        F(kUlong, CK_CCM_MESSAGE_PARAMS, ulNonceFixedBits),
                        F(kUlong, CK_CCM_MESSAGE_PARAMS, nonceGenerator), P(CK_CCM_MESSAGE_PARAMS, pMAC, ulMACLen)}},
      /* kChaCha20Poly1305Message */ {sizeof(CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS),
                                    {P(CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS, pNonce, ulNonceLen),
                                     Field{Kind::kFixedBuffer, offsetof(CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS, pTag),
                                           16}}},
  };
  static_assert(std::size(kLayouts) == kLayoutCount);
  return kLayouts[id];
}

#undef F
#undef P
#undef A

// The mechanisms whose parameter holds pointers, with its layout (and, for the AEADs,
// the layout of the per-message parameter). For these the harness never passes bytes
// of that struct's size in any other shape: the module would take numbers or raw
// bytes for pointers, which no caller can do within the rules. A mechanism the
// module learns whose parameter holds pointers must be added here.
struct PointerParam {
  CK_MECHANISM_TYPE mech;
  LayoutId init;
  LayoutId message;  // kLayoutCount: none
};
constexpr PointerParam kPointerParams[] = {
    {CKM_RSA_PKCS_OAEP, kRsaOaep, kLayoutCount},
    {CKM_AES_GCM, kGcm, kGcmMessage},
    {CKM_AES_CCM, kCcm, kCcmMessage},
    {CKM_CHACHA20_POLY1305, kChaCha20Poly1305, kChaCha20Poly1305Message},
    {CKM_EDDSA, kEdDsa, kLayoutCount},
    {CKM_ECDH1_DERIVE, kEcdh1Derive, kLayoutCount},
    {CKM_ECDH1_COFACTOR_DERIVE, kEcdh1Derive, kLayoutCount},
    {CKM_HKDF_DERIVE, kHkdf, kLayoutCount},
    {CKM_HKDF_DATA, kHkdf, kLayoutCount},
    {CKM_SP800_108_COUNTER_KDF, kSp800108, kLayoutCount},
    {CKM_SP800_108_DOUBLE_PIPELINE_KDF, kSp800108, kLayoutCount},
    {CKM_SP800_108_FEEDBACK_KDF, kSp800108Feedback, kLayoutCount},
    {CKM_PKCS5_PBKD2, kPbkdf2, kLayoutCount},
    {CKM_AES_ECB_ENCRYPT_DATA, kKeyDerivationString, kLayoutCount},
    {CKM_DES3_ECB_ENCRYPT_DATA, kKeyDerivationString, kLayoutCount},
    {CKM_CONCATENATE_BASE_AND_DATA, kKeyDerivationString, kLayoutCount},
    {CKM_CONCATENATE_DATA_AND_BASE, kKeyDerivationString, kLayoutCount},
    {CKM_XOR_BASE_AND_DATA, kKeyDerivationString, kLayoutCount},
    {CKM_AES_CBC_ENCRYPT_DATA, kAesCbcEncryptData, kLayoutCount},
    {CKM_DES3_CBC_ENCRYPT_DATA, kDes3CbcEncryptData, kLayoutCount},
};

const Layout* pointer_layout(CK_MECHANISM_TYPE mech, bool message) {
  for (const PointerParam& p : kPointerParams) {
    if (p.mech != mech) continue;
    const LayoutId id = message ? p.message : p.init;
    return id == kLayoutCount ? nullptr : &layout(id);
  }
  return nullptr;
}

constexpr CK_PRF_DATA_TYPE kPrfDataTypes[] = {CK_SP800_108_ITERATION_VARIABLE, CK_SP800_108_OPTIONAL_COUNTER,
                                              CK_SP800_108_DKM_LENGTH, CK_SP800_108_BYTE_ARRAY};
constexpr uint8_t kMaxPrfData = 8;
constexpr uint8_t kMaxDerivedKeys = 2;
constexpr CK_ULONG kMaxTagBytes = 4096;

template <typename T>
void put(uint8_t* s, size_t off, T v) {
  std::memcpy(s + off, &v, sizeof v);
}

// PBKDF2 with millions of iterations is slow, not wrong: a count between 1,001 and
// 100,000,000 becomes 1,000, and a larger one (which the module must refuse) stays.
CK_ULONG iterations(uint64_t v) { return v > 1000 && v <= 100'000'000 ? 1000 : static_cast<CK_ULONG>(v); }

void read_field(Reader& r, Arena& arena, ParamOutputs& out, uint8_t* s, const Field& f) {
  switch (f.kind) {
    case Kind::kUlong: put<CK_ULONG>(s, f.off, r.ulong()); break;
    case Kind::kBool: put<CK_BBOOL>(s, f.off, r.u8()); break;
    case Kind::kKey: put<CK_OBJECT_HANDLE>(s, f.off, Module::get().key(r.u8())); break;
    case Kind::kIterations: put<CK_ULONG>(s, f.off, iterations(r.ulong())); break;
    case Kind::kBytes: {
      CK_ULONG len = 0;
      void* p = arena.blob(r, len);
      put(s, f.off, p);
      put(s, f.aux, len);
      break;
    }
    case Kind::kInline: {
      size_t n = f.aux;
      const uint8_t* p = r.take(n);
      std::memcpy(s + f.off, p, n);
      break;
    }
    case Kind::kTagBits: {
      CK_ULONG bits = r.ulong();
      if (bits > 8 * kMaxTagBytes) bits %= 8 * kMaxTagBytes + 1;  // the buffer must hold what the struct states
      size_t n = (bits + 7) / 8;
      uint8_t* tag = arena.alloc(n);
      const uint8_t* p = r.take(n);  // a tag to verify (decryption); encryption overwrites it
      std::memcpy(tag, p, n);
      put(s, f.off, static_cast<void*>(tag));
      put(s, f.aux, bits);
      break;
    }
    case Kind::kFixedBuffer: {
      size_t n = f.aux;
      const uint8_t* p = r.take(n);
      uint8_t* buf = arena.alloc(f.aux);
      std::memcpy(buf, p, n);
      put(s, f.off, static_cast<void*>(buf));
      break;
    }
    case Kind::kPrfData: {
      const CK_ULONG n = r.u8() % (kMaxPrfData + 1);
      auto* d = arena.array<CK_PRF_DATA_PARAM>(n);
      for (CK_ULONG i = 0; i < n; ++i) {
        const uint8_t tag = r.u8();
        d[i].type = tag < std::size(kPrfDataTypes) ? kPrfDataTypes[tag] : r.ulong();
        d[i].pValue = arena.blob(r, d[i].ulValueLen);
      }
      put(s, f.off, d);
      put(s, f.aux, n);
      break;
    }
    case Kind::kDerivedKeys: {
      const CK_ULONG n = r.u8() % (kMaxDerivedKeys + 1);
      auto* d = arena.array<CK_DERIVED_KEY>(n);
      for (CK_ULONG i = 0; i < n; ++i) {
        Template t = read_template(r, arena);
        keep_destroyable(t);
        d[i].pTemplate = t.attrs;
        d[i].ulAttributeCount = t.count;
        d[i].phKey = arena.array<CK_OBJECT_HANDLE>(1);
        out.handles.push_back(d[i].phKey);
      }
      put(s, f.off, d);
      put(s, f.aux, n);
      break;
    }
  }
}

void write_field(Writer& w, const Field& f, const SeedField& v) {
  switch (f.kind) {
    case Kind::kUlong:
    case Kind::kIterations: w.ulong(v.number); break;
    case Kind::kTagBits: {
      std::vector<uint8_t> b = v.bytes;
      b.resize((v.number + 7) / 8);
      w.ulong(v.number).raw(b.data(), b.size());
      break;
    }
    case Kind::kBool:
    case Kind::kKey: w.u8(static_cast<uint8_t>(v.number)); break;
    case Kind::kBytes:
      if (v.null) {
        w.null_blob(static_cast<uint16_t>(v.number));
      } else {
        w.blob(v.bytes);
      }
      break;
    case Kind::kInline:
    case Kind::kFixedBuffer: {
      std::vector<uint8_t> b = v.bytes;
      b.resize(f.aux);
      w.raw(b.data(), b.size());
      break;
    }
    case Kind::kPrfData:
      w.u8(static_cast<uint8_t>(v.elements.size()));
      for (const auto& e : v.elements) {  // {type, value}
        const auto* it = std::find(std::begin(kPrfDataTypes), std::end(kPrfDataTypes), e.at(0).number);
        if (it != std::end(kPrfDataTypes)) {
          w.u8(static_cast<uint8_t>(it - std::begin(kPrfDataTypes)));
        } else {
          w.u8(0xff).ulong(e.at(0).number);
        }
        if (e.at(1).null) {
          w.null_blob(static_cast<uint16_t>(e.at(1).number));
        } else {
          w.blob(e.at(1).bytes);
        }
      }
      break;
    case Kind::kDerivedKeys: w.u8(0); break;  // seeds ask for none (the module supports none)
  }
}

}  // namespace

Param read_param(Reader& r, Arena& arena, ParamOutputs& out, CK_MECHANISM_TYPE mech, bool message) {
  const uint8_t form = r.u8();
  const Layout* expected = pointer_layout(mech, message);
  Param p;
  if (form == 0) return p;
  if (form == 1) {
    p.p = arena.blob(r, p.len);
    if (p.p != nullptr && expected != nullptr && p.len == expected->size) --p.len;  // never pointers made up of bytes
    return p;
  }
  const Layout* l = &layout(static_cast<LayoutId>((form - 2) % kLayoutCount));
  if (expected != nullptr && l->size == expected->size) l = expected;
  uint8_t* st = arena.alloc(l->size);
  for (const Field& f : l->fields) read_field(r, arena, out, st, f);
  p.p = st;
  p.len = l->size;
  return p;
}

CK_MECHANISM read_mechanism(Reader& r, Arena& arena, ParamOutputs& out, CK_FLAGS flags) {
  CK_MECHANISM m{};
  m.mechanism = Module::get().mechanism(r.ulong(), flags);
  Param p = read_param(r, arena, out, m.mechanism, false);
  m.pParameter = p.p;
  m.ulParameterLen = p.len;
  return m;
}

SeedField num(uint64_t v) { return SeedField{v, {}, false, {}}; }
SeedField bytes(std::vector<uint8_t> b) { return SeedField{0, std::move(b), false, {}}; }
SeedField null_ptr(uint64_t stated_len) { return SeedField{stated_len, {}, true, {}}; }
SeedField tag_bits(uint64_t bits, std::vector<uint8_t> tag) { return SeedField{bits, std::move(tag), false, {}}; }

void write_null_param(Writer& w) { w.u8(0); }
void write_raw_param(Writer& w, const std::vector<uint8_t>& b) { w.u8(1).blob(b); }

void write_struct_param(Writer& w, LayoutId id, const std::vector<SeedField>& fields) {
  const Layout& l = layout(id);
  if (fields.size() != l.fields.size()) std::abort();  // a seed that does not match its layout
  w.u8(static_cast<uint8_t>(2 + id));
  for (size_t i = 0; i < fields.size(); ++i) write_field(w, l.fields[i], fields[i]);
}

}  // namespace ferrohsm::fuzz
