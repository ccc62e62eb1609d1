// client::invoke and server::run back to back in one process, around small fake
// functions with PKCS#11's calling conventions: what the application sees must be what
// it would see calling the function directly.
#include "wire/call.h"

#include <gtest/gtest.h>

#include <cstring>

namespace ferrohsm::wire {
namespace {

// A "signature" of 8 bytes, with the length convention.
CK_RV fake_sign(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len) {
  if (h != 7) return CKR_SESSION_HANDLE_INVALID;
  if (sig_len == nullptr || (data == nullptr && len != 0)) return CKR_ARGUMENTS_BAD;
  if (sig == nullptr) {
    *sig_len = 8;
    return CKR_OK;
  }
  if (*sig_len < 8) {
    *sig_len = 8;
    return CKR_BUFFER_TOO_SMALL;
  }
  for (int i = 0; i < 8; ++i) sig[i] = static_cast<CK_BYTE>(len + i);
  *sig_len = 8;
  return CKR_OK;
}

CK_RV fake_get(CK_SESSION_HANDLE, CK_OBJECT_HANDLE, CK_ATTRIBUTE_PTR t, CK_ULONG n) {
  static const CK_ULONG cls = CKO_SECRET_KEY;
  static const char label[] = "hello";
  CK_RV rv = CKR_OK;
  for (CK_ULONG i = 0; i < n; ++i) {
    const void* v = t[i].type == CKA_CLASS ? static_cast<const void*>(&cls) : label;
    CK_ULONG len = t[i].type == CKA_CLASS ? sizeof cls : 5;
    if (t[i].type == CKA_VALUE) {
      t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
      rv = CKR_ATTRIBUTE_SENSITIVE;
    } else if (t[i].pValue == nullptr) {
      t[i].ulValueLen = len;
    } else if (t[i].ulValueLen < len) {
      t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
      if (rv == CKR_OK) rv = CKR_BUFFER_TOO_SMALL;
    } else {
      std::memcpy(t[i].pValue, v, len);
      t[i].ulValueLen = len;
    }
  }
  return rv;
}

struct Loop {
  client::Context cctx{1 << 20};
  Result<Return> operator()(const Call& call, uint32_t) {
    server::Context sctx;
    sctx.budget = 1 << 20;
    Return ret;
    ret.set_id(call.id());
    server::Load l;
    if (call.function() == 0) {
      auto body = [&](CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                      CK_ULONG_PTR pulSignatureLen) -> CK_RV {
        using namespace server;
        l = run(sctx, call, ret, std::make_tuple(Sess(hSession), In(pData, ulDataLen), Out(pSignature, pulSignatureLen)),
                [&] { return fake_sign(hSession, pData, ulDataLen, pSignature, pulSignatureLen); });
        return CKR_OK;
      };
      server::call_with_fresh_arguments(body);
    } else {
      auto body = [&](CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                      CK_ULONG ulCount) -> CK_RV {
        using namespace server;
        l = run(sctx, call, ret, std::make_tuple(Sess(hSession), U(hObject), Query(pTemplate, ulCount)),
                [&] { return fake_get(hSession, hObject, pTemplate, ulCount); });
        return CKR_OK;
      };
      server::call_with_fresh_arguments(body);
    }
    if (l.what == server::Load::kMalformed) return make_error(CKR_DEVICE_ERROR, l.why);
    return ret;
  }
};

CK_RV remote_sign(Loop& loop, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                  CK_ULONG_PTR pulSignatureLen) {
  using namespace client;
  return invoke(loop.cctx, 0, loop, [](CK_RV rv) { return rv; }, Sess(hSession), In(pData, ulDataLen), Out(pSignature, pulSignatureLen));
}

CK_RV remote_get(Loop& loop, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                 CK_ULONG ulCount) {
  using namespace client;
  return invoke(loop.cctx, 1, loop, [](CK_RV rv) { return rv; }, Sess(hSession), U(hObject), Query(pTemplate, ulCount));
}

constexpr CK_SESSION_HANDLE kSession = (CK_SESSION_HANDLE{1} << 32) | 7;  // generation 1, server handle 7

TEST(Call, LengthQueryShortBufferAndSuccess) {
  Loop loop;
  CK_BYTE data[3] = {1, 2, 3}, sig[8] = {};
  CK_ULONG len = 0;
  ASSERT_EQ(remote_sign(loop, kSession, data, 3, nullptr, &len), CKR_OK);
  EXPECT_EQ(len, 8u);
  len = 4;
  ASSERT_EQ(remote_sign(loop, kSession, data, 3, sig, &len), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, 8u);
  ASSERT_EQ(remote_sign(loop, kSession, data, 3, sig, &len), CKR_OK);
  EXPECT_EQ(sig[0], 3);
  EXPECT_EQ(sig[7], 10);
  EXPECT_EQ(remote_sign(loop, kSession, nullptr, 3, sig, &len), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(remote_sign(loop, kSession, data, 3, sig, nullptr), CKR_ARGUMENTS_BAD);
}

TEST(Call, SessionsOfALostConnectionAreRemovedAndStrangersInvalid) {
  Loop loop;
  CK_BYTE sig[8];
  CK_ULONG len = sizeof sig;
  loop.cctx.next_generation();
  EXPECT_EQ(remote_sign(loop, kSession, nullptr, 0, sig, &len), CKR_DEVICE_REMOVED);
  EXPECT_EQ(remote_sign(loop, 7, nullptr, 0, sig, &len), CKR_SESSION_HANDLE_INVALID);
}

TEST(Call, AttributeQueryKeepsEveryRuleOfSection57) {
  Loop loop;
  CK_ULONG cls = 0;
  char small[2], label[16];
  CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, nullptr, 0}, {CKA_VALUE, label, sizeof label}};
  EXPECT_EQ(remote_get(loop, kSession, 1, t, 3), CKR_ATTRIBUTE_SENSITIVE);
  EXPECT_EQ(cls, CKO_SECRET_KEY);
  EXPECT_EQ(t[1].ulValueLen, 5u);
  EXPECT_EQ(t[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  CK_ATTRIBUTE u[] = {{CKA_LABEL, small, sizeof small}, {CKA_ID, label, sizeof label}};
  EXPECT_EQ(remote_get(loop, kSession, 1, u, 2), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(u[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(u[1].ulValueLen, 5u);
  EXPECT_EQ(std::string(label, 5), "hello");
}

}  // namespace
}  // namespace ferrohsm::wire
