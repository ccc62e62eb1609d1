// Harness 2: mechanism parameters. The input picks a function that takes a
// mechanism — every *Init (sign, verify, encrypt, decrypt, digest, sign/verify
// recover, message encrypt/decrypt), C_DeriveKey, C_UnwrapKey, C_WrapKey or
// C_GenerateKey —, a listed mechanism with its parameter (common/mech_params.h) and a
// key, then drives the operation it started with data from the input: single-part
// or multi-part, with the message calls' own parameters. The parameter's memory is
// freed as soon as the call that took it returns, so a module that kept a pointer
// into it is caught using freed memory.
#include <vector>

#include "common/calls.h"
#include "common/mech_params.h"
#include "common/module.h"
#include "common/templates.h"
#include "harnesses.h"

using namespace ferrohsm::fuzz;

namespace {

struct Blob {
  CK_BYTE_PTR p;
  CK_ULONG len;
};

Blob blob(Reader& r, Arena& a) {
  Blob b{};
  b.p = static_cast<CK_BYTE_PTR>(a.blob(r, b.len));
  return b;
}

struct Iteration {
  Module& m;
  CK_FUNCTION_LIST_3_0* f;
  CK_SESSION_HANDLE s;
  Reader& r;
  Arena& a;  // lives for the whole iteration
  std::vector<CK_OBJECT_HANDLE> created;

  // Single-part, or up to three updates and a final.
  template <typename One, typename Update, typename Final>
  void run(One one, Update update, Final final) {
    if ((r.u8() & 1) != 0) {
      one();
      return;
    }
    for (int parts = r.u8() % 4; parts > 0; --parts)
      if (update() != CKR_OK) return;
    final();
  }

  // A call with input from the fuzzer and an output (C_Sign, C_EncryptUpdate, C_Digest …).
  using InOut = CK_RV (*)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR);
  using Out = CK_RV (*)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG_PTR);
  using In = CK_RV (*)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG);
  CK_RV in_out(InOut call) {
    Blob d = blob(r, a);
    return with_output(r, a, [&](CK_BYTE_PTR o, CK_ULONG_PTR l) { return call(s, d.p, d.len, o, l); });
  }
  CK_RV out(Out call) {
    return with_output(r, a, [&](CK_BYTE_PTR o, CK_ULONG_PTR l) { return call(s, o, l); });
  }
  CK_RV in(In call) {
    Blob d = blob(r, a);
    return call(s, d.p, d.len);
  }

  void sign() {
    run([&] { return in_out(f->C_Sign); }, [&] { return in(f->C_SignUpdate); }, [&] { return out(f->C_SignFinal); });
  }
  void verify() {
    run([&] {
          Blob d = blob(r, a), sig = blob(r, a);
          return f->C_Verify(s, d.p, d.len, sig.p, sig.len);
        },
        [&] { return in(f->C_VerifyUpdate); }, [&] { return in(f->C_VerifyFinal); });
  }
  void cipher(bool encrypt) {
    run([&] { return in_out(encrypt ? f->C_Encrypt : f->C_Decrypt); },
        [&] { return in_out(encrypt ? f->C_EncryptUpdate : f->C_DecryptUpdate); },
        [&] { return out(encrypt ? f->C_EncryptFinal : f->C_DecryptFinal); });
  }
  void digest() {
    run([&] { return in_out(f->C_Digest); },
        [&] { return (r.u8() & 3) == 0 ? f->C_DigestKey(s, m.key(r.u8())) : in(f->C_DigestUpdate); },
        [&] { return out(f->C_DigestFinal); });
  }

  // Up to three messages, each with its own parameter (freed after the call that took it).
  void messages(CK_MECHANISM_TYPE mechanism, bool encrypt) {
    for (int n = r.u8() % 4; n > 0; --n) {
      Arena pa;
      ParamOutputs unused;
      Param p = read_param(r, pa, unused, mechanism, true);
      Blob aad = blob(r, a);
      if ((r.u8() & 1) != 0) {  // in one call
        Blob d = blob(r, a);
        with_output(r, a, [&](CK_BYTE_PTR o, CK_ULONG_PTR l) {
          return (encrypt ? f->C_EncryptMessage : f->C_DecryptMessage)(s, p.p, p.len, aad.p, aad.len, d.p, d.len, o,
                                                                        l);
        });
        continue;
      }
      CK_RV rv = (encrypt ? f->C_EncryptMessageBegin : f->C_DecryptMessageBegin)(s, p.p, p.len, aad.p, aad.len);
      for (int parts = r.u8() % 4; parts > 0 && rv == CKR_OK; --parts) {
        Blob d = blob(r, a);
        const CK_FLAGS flags = (r.u8() & 1) != 0 ? CKF_END_OF_MESSAGE : 0;
        rv = with_output(r, a, [&](CK_BYTE_PTR o, CK_ULONG_PTR l) {
          return (encrypt ? f->C_EncryptMessageNext : f->C_DecryptMessageNext)(s, p.p, p.len, d.p, d.len, o, l, flags);
        });
      }
    }
    (encrypt ? f->C_MessageEncryptFinal : f->C_MessageDecryptFinal)(s);
  }

  void keep(CK_RV rv, CK_OBJECT_HANDLE h, const char* what) {
    if (rv != CKR_OK) return;
    if (h == CK_INVALID_HANDLE) fail(what, rv);
    created.push_back(h);
  }

  void once() {
    const Op op = static_cast<Op>(r.u8() % kOpCount);
    Arena pa;  // the mechanism parameter's memory: freed right after the call
    ParamOutputs outs;
    CK_MECHANISM mech = read_mechanism(r, pa, outs, kOpFlags[op]);
    const CK_OBJECT_HANDLE key = m.key(r.u8());
    CK_RV rv = CKR_OK;
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    switch (op) {
      case kSign: rv = f->C_SignInit(s, &mech, key); break;
      case kVerify: rv = f->C_VerifyInit(s, &mech, key); break;
      case kEncrypt: rv = f->C_EncryptInit(s, &mech, key); break;
      case kDecrypt: rv = f->C_DecryptInit(s, &mech, key); break;
      case kDigest: rv = f->C_DigestInit(s, &mech); break;
      case kSignRecover: rv = f->C_SignRecoverInit(s, &mech, key); break;
      case kVerifyRecover: rv = f->C_VerifyRecoverInit(s, &mech, key); break;
      case kMessageEncrypt: rv = f->C_MessageEncryptInit(s, &mech, key); break;
      case kMessageDecrypt: rv = f->C_MessageDecryptInit(s, &mech, key); break;
      case kDerive: {
        Template t = read_template(r, a);
        keep_destroyable(t);
        keep(f->C_DeriveKey(s, &mech, key, t.attrs, t.count, &h), h, "C_DeriveKey returned no handle");
        break;
      }
      case kUnwrap: {
        Blob w = blob(r, a);
        Template t = read_template(r, a);
        keep_destroyable(t);
        keep(f->C_UnwrapKey(s, &mech, key, w.p, w.len, t.attrs, t.count, &h), h, "C_UnwrapKey returned no handle");
        break;
      }
      case kWrap: {
        const CK_OBJECT_HANDLE target = m.key(r.u8());
        rv = with_output(r, a,
                         [&](CK_BYTE_PTR o, CK_ULONG_PTR l) { return f->C_WrapKey(s, &mech, key, target, o, l); });
        break;
      }
      case kGenerate: {
        Template t = read_template(r, a);
        keep_destroyable(t);
        keep(f->C_GenerateKey(s, &mech, t.attrs, t.count, &h), h, "C_GenerateKey returned no handle");
        break;
      }
      case kOpCount: break;
    }
    for (CK_OBJECT_HANDLE* written : outs.handles) created.push_back(*written);
    pa.clear();
    if (rv != CKR_OK) return;
    switch (op) {
      case kSign: sign(); break;
      case kVerify: verify(); break;
      case kEncrypt: cipher(true); break;
      case kDecrypt: cipher(false); break;
      case kDigest: digest(); break;
      case kSignRecover: in_out(f->C_SignRecover); break;
      case kVerifyRecover: in_out(f->C_VerifyRecover); break;
      case kMessageEncrypt: messages(mech.mechanism, true); break;
      case kMessageDecrypt: messages(mech.mechanism, false); break;
      default: break;
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Module& m = Module::get();
  Reader r(data, size);
  Arena arena;
  Iteration it{m, m.f, m.open_session(), r, arena, {}};
  it.once();
  m.end_iteration(it.s, it.created);
  return 0;
}
