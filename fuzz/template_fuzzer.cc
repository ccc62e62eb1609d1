// Harness 1: attribute templates. The input picks C_CreateObject, C_GenerateKey or
// C_GenerateKeyPair (a mechanism the module lists for it), then the template(s)
// (common/templates.h). An object that was created is read back with
// C_GetAttributeValue over the types its template named, then destroyed.
#include <vector>

#include "common/calls.h"
#include "common/mech_params.h"
#include "common/module.h"
#include "common/templates.h"
#include "harnesses.h"

using namespace ferrohsm::fuzz;

namespace {

// RSA key generation costs a second per 2048 bits under the sanitizers and tells
// nothing new above 2048 bits: a larger CKA_MODULUS_BITS is asked for as 2048.
void limit_rsa_bits(const CK_MECHANISM& m, Template& pub) {
  if (m.mechanism != CKM_RSA_PKCS_KEY_PAIR_GEN && m.mechanism != CKM_RSA_X9_31_KEY_PAIR_GEN) return;
  for (CK_ULONG i = 0; i < pub.count; ++i) {
    CK_ATTRIBUTE& a = pub.attrs[i];
    if (a.type != CKA_MODULUS_BITS || a.pValue == nullptr || a.ulValueLen != sizeof(CK_ULONG)) continue;
    CK_ULONG bits;
    std::memcpy(&bits, a.pValue, sizeof bits);
    if (bits > 2048 && bits <= 16384) bits = 2048;
    std::memcpy(a.pValue, &bits, sizeof bits);
  }
}

bool is_array(CK_ATTRIBUTE_TYPE t) { return (t & CKF_ARRAY_ATTRIBUTE) != 0; }

// Asks for the length of every attribute the template named, then for the values in
// buffers of exactly those lengths.
void read_back(Module& m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, const Template& t, Arena& arena) {
  if (t.count == 0) return;
  auto* q = arena.array<CK_ATTRIBUTE>(t.count);
  bool arrays = false;
  for (CK_ULONG i = 0; i < t.count; ++i) {
    q[i] = {t.attrs[i].type, nullptr, 0};
    arrays |= is_array(q[i].type);
  }
  CK_RV rv = m.f->C_GetAttributeValue(s, h, q, t.count);
  if (rv != CKR_OK && rv != CKR_ATTRIBUTE_SENSITIVE && rv != CKR_ATTRIBUTE_TYPE_INVALID) return;
  for (CK_ULONG i = 0; i < t.count; ++i) {
    if (q[i].ulValueLen == CK_UNAVAILABLE_INFORMATION) continue;
    if (q[i].ulValueLen > kMaxOutput) fail("an implausible attribute length", rv);
    q[i].pValue = arena.alloc(q[i].ulValueLen);
  }
  rv = m.f->C_GetAttributeValue(s, h, q, t.count);
  if (rv == CKR_BUFFER_TOO_SMALL && !arrays) fail("C_GetAttributeValue with the lengths it gave", rv);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Module& m = Module::get();
  Reader r(data, size);
  Arena arena;
  ParamOutputs outs;
  std::vector<CK_OBJECT_HANDLE> created;
  const CK_SESSION_HANDLE s = m.open_session();

  switch (r.u8() % kTemplateCalls) {
    case kCreateObject: {
      Template t = read_template(r, arena);
      keep_destroyable(t);
      CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
      if (m.f->C_CreateObject(s, t.attrs, t.count, &h) == CKR_OK) {
        if (h == CK_INVALID_HANDLE) fail("C_CreateObject returned no handle", CKR_OK);
        created.push_back(h);
        read_back(m, s, h, t, arena);
      }
      break;
    }
    case kGenerateKey: {
      CK_MECHANISM mech = read_mechanism(r, arena, outs, CKF_GENERATE);
      Template t = read_template(r, arena);
      keep_destroyable(t);
      CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
      if (m.f->C_GenerateKey(s, &mech, t.attrs, t.count, &h) == CKR_OK) {
        if (h == CK_INVALID_HANDLE) fail("C_GenerateKey returned no handle", CKR_OK);
        created.push_back(h);
        read_back(m, s, h, t, arena);
      }
      break;
    }
    default: {
      CK_MECHANISM mech = read_mechanism(r, arena, outs, CKF_GENERATE_KEY_PAIR);
      Template pub = read_template(r, arena);
      Template priv = read_template(r, arena);
      keep_destroyable(pub);
      keep_destroyable(priv);
      limit_rsa_bits(mech, pub);
      CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
      if (m.f->C_GenerateKeyPair(s, &mech, pub.attrs, pub.count, priv.attrs, priv.count, &hpub, &hpriv) == CKR_OK) {
        if (hpub == CK_INVALID_HANDLE || hpriv == CK_INVALID_HANDLE)
          fail("C_GenerateKeyPair returned no handle", CKR_OK);
        created.push_back(hpub);
        created.push_back(hpriv);
        read_back(m, s, hpub, pub, arena);
        read_back(m, s, hpriv, priv, arena);
      }
      break;
    }
  }
  for (CK_OBJECT_HANDLE* h : outs.handles) created.push_back(*h);
  m.end_iteration(s, created);
  return 0;
}
