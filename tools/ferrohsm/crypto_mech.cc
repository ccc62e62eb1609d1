#include "crypto_mech.h"

#include "base/names.h"

namespace ferrohsm::cli {
namespace {

struct PssRow {
  CK_MECHANISM_TYPE mech;
  PssParams params;
};
constexpr PssRow kPss[] = {
    {CKM_SHA1_RSA_PKCS_PSS, {CKM_SHA_1, CKG_MGF1_SHA1, 20, "SHA_1", "MGF1_SHA1"}},
    {CKM_SHA224_RSA_PKCS_PSS, {CKM_SHA224, CKG_MGF1_SHA224, 28, "SHA224", "MGF1_SHA224"}},
    {CKM_SHA256_RSA_PKCS_PSS, {CKM_SHA256, CKG_MGF1_SHA256, 32, "SHA256", "MGF1_SHA256"}},
    {CKM_SHA384_RSA_PKCS_PSS, {CKM_SHA384, CKG_MGF1_SHA384, 48, "SHA384", "MGF1_SHA384"}},
    {CKM_SHA512_RSA_PKCS_PSS, {CKM_SHA512, CKG_MGF1_SHA512, 64, "SHA512", "MGF1_SHA512"}},
};

}  // namespace

size_t iv_length(CK_MECHANISM_TYPE m) {
  switch (m) {
    case CKM_AES_GCM: return 12;
    case CKM_AES_CBC:
    case CKM_AES_CBC_PAD: return 16;
    default: return 0;
  }
}

std::optional<PssParams> pss_params(CK_MECHANISM_TYPE m) {
  for (const PssRow& r : kPss)
    if (r.mech == m) return r.params;
  return std::nullopt;
}

Result<CK_MECHANISM_TYPE> cli_mechanism(const std::string& name) {
  auto m = mechanism_from_name(name);
  if (!m) return make_error(CKR_MECHANISM_INVALID, "--mechanism '" + name + "' is not a PKCS#11 mechanism name");
  if (*m == CKM_RSA_PKCS_PSS)
    return make_error(CKR_MECHANISM_INVALID,
                      "--mechanism RSA_PKCS_PSS needs a hash the tool cannot choose: use SHA256_RSA_PKCS_PSS (or "
                      "SHA384_…, SHA512_…), which signs the data's digest with matching PSS parameters");
  return *m;
}

}  // namespace ferrohsm::cli
