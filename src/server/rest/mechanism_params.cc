#include "server/rest/mechanism_params.h"

#include "base/base64.h"
#include "base/names.h"
#include "core/seal.h"

#include <string>

namespace ferrohsm::server::rest {
namespace {

using nlohmann::json;

Error param_error(const std::string& why) { return make_error(CKR_MECHANISM_PARAM_INVALID, why); }

Result<CK_MECHANISM_TYPE> named(const std::string& name, const char* prefix) {
  std::string full = name.rfind(prefix, 0) == 0 ? name : prefix + name;
  auto t = mechanism_from_name(full);
  if (!t) return make_error(CKR_MECHANISM_INVALID, "no mechanism named '" + name + "'");
  return *t;
}

// A hash for PSS and OAEP is a parameter: an unknown one is CKR_MECHANISM_PARAM_INVALID.
Result<CK_MECHANISM_TYPE> hash_named(const std::string& name) {
  auto t = named(name, "CKM_");
  if (!t) return param_error("no hash named '" + name + "'");
  return *t;
}

Result<CK_RSA_PKCS_MGF_TYPE> mgf_named(std::string mgf) {
  if (mgf.rfind("CKG_", 0) == 0) mgf = mgf.substr(4);
  static constexpr std::pair<const char*, CK_RSA_PKCS_MGF_TYPE> kMgf[] = {
      {"MGF1_SHA1", CKG_MGF1_SHA1},     {"MGF1_SHA224", CKG_MGF1_SHA224}, {"MGF1_SHA256", CKG_MGF1_SHA256},
      {"MGF1_SHA384", CKG_MGF1_SHA384}, {"MGF1_SHA512", CKG_MGF1_SHA512}};
  for (const auto& [n, v] : kMgf)
    if (mgf == n) return v;
  return param_error("no mask generation function named '" + mgf + "'");
}

// parameters.<name> as a string, `dflt` when absent.
Result<std::string> text(const json& p, const char* name, const std::string& dflt) {
  if (!p.contains(name)) return dflt;
  if (!p[name].is_string()) return param_error(std::string("parameters.") + name + " must be a string");
  return p[name].get<std::string>();
}

// parameters.<name> as base64url bytes; absent: empty.
Result<Bytes> octets(const json& p, const char* name) {
  if (!p.contains(name)) return Bytes{};
  if (!p[name].is_string()) return param_error(std::string("parameters.") + name + " must be base64url");
  auto b = from_base64url(p[name].get<std::string>());
  if (!b) return param_error(std::string("parameters.") + name + " must be base64url");
  return Bytes(b->begin(), b->end());
}

Result<CK_ULONG> number(const json& p, const char* name, CK_ULONG dflt) {
  if (!p.contains(name)) return dflt;
  if (!p[name].is_number_unsigned()) return param_error(std::string("parameters.") + name + " must be a number");
  return p[name].get<CK_ULONG>();
}

bool is_pss(CK_MECHANISM_TYPE t) {
  return t == CKM_RSA_PKCS_PSS || t == CKM_SHA1_RSA_PKCS_PSS || t == CKM_SHA224_RSA_PKCS_PSS ||
         (t >= CKM_SHA256_RSA_PKCS_PSS && t <= CKM_SHA512_RSA_PKCS_PSS);
}

Status pss_parameters(const json& p, Mech& m) {
  FH_ASSIGN_OR_RETURN(std::string hash, text(p, "hash", "SHA256"));
  FH_ASSIGN_OR_RETURN(std::string mgf, text(p, "mgf", "MGF1_" + hash));
  FH_ASSIGN_OR_RETURN(m.pss.hashAlg, hash_named(hash));
  FH_ASSIGN_OR_RETURN(m.pss.mgf, mgf_named(mgf));
  if (!p.contains("salt_length") || !p["salt_length"].is_number_unsigned())
    return param_error("RSA-PSS needs parameters.salt_length (bytes)");
  m.pss.sLen = p["salt_length"].get<CK_ULONG>();
  m.m.pParameter = &m.pss;
  m.m.ulParameterLen = sizeof m.pss;
  return {};
}

// RSA-OAEP: "hash" (default SHA256), "mgf" (default MGF1 of the hash), "label"
// (base64url, default none: CKZ_DATA_SPECIFIED with no data).
Status oaep_parameters(const json& p, Mech& m) {
  FH_ASSIGN_OR_RETURN(std::string hash, text(p, "hash", "SHA256"));
  FH_ASSIGN_OR_RETURN(std::string mgf, text(p, "mgf", "MGF1_" + hash));
  FH_ASSIGN_OR_RETURN(m.oaep.hashAlg, hash_named(hash));
  FH_ASSIGN_OR_RETURN(m.oaep.mgf, mgf_named(mgf));
  FH_ASSIGN_OR_RETURN(m.label, octets(p, "label"));
  m.oaep.source = CKZ_DATA_SPECIFIED;
  m.oaep.pSourceData = m.label.empty() ? nullptr : m.label.data();
  m.oaep.ulSourceDataLen = m.label.size();
  m.m.pParameter = &m.oaep;
  m.m.ulParameterLen = sizeof m.oaep;
  return {};
}

// AES-GCM and AES-CBC: "iv" (base64url; on encrypt, absent = the server picks a random
// one and answers with it), GCM also "aad" and "tag_bits" (default 128).
Status iv_parameters(const json& p, Mech& m, bool encrypting) {
  const bool gcm = m.m.mechanism == CKM_AES_GCM;
  if (p.contains("iv")) {
    FH_ASSIGN_OR_RETURN(m.iv, octets(p, "iv"));
  } else if (encrypting) {
    FH_ASSIGN_OR_RETURN(SecureBytes fresh, random_bytes(gcm ? 12 : 16));
    m.iv.assign(fresh.begin(), fresh.end());
    m.iv_generated = true;
  } else {
    return param_error("decrypting needs parameters.iv");
  }
  if (!gcm) {
    m.m.pParameter = m.iv.data();
    m.m.ulParameterLen = m.iv.size();
    return {};
  }
  FH_ASSIGN_OR_RETURN(m.aad, octets(p, "aad"));
  FH_ASSIGN_OR_RETURN(m.gcm.ulTagBits, number(p, "tag_bits", 128));
  m.gcm.pIv = m.iv.data();
  m.gcm.ulIvLen = m.iv.size();
  m.gcm.ulIvBits = m.iv.size() * 8;
  m.gcm.pAAD = m.aad.empty() ? nullptr : m.aad.data();
  m.gcm.ulAADLen = m.aad.size();
  m.m.pParameter = &m.gcm;
  m.m.ulParameterLen = sizeof m.gcm;
  return {};
}

}  // namespace

Result<std::unique_ptr<Mech>> mechanism(const json& body, bool encrypting) {
  if (!body.is_object() || !body.contains("mechanism") || !body["mechanism"].is_string())
    return make_error(CKR_ARGUMENTS_BAD, "the body needs \"mechanism\" (a string)");
  const std::string name = body["mechanism"].get<std::string>();
  auto m = std::make_unique<Mech>();
  FH_ASSIGN_OR_RETURN(m->m.mechanism, named(name, "CKM_"));
  const json p = body.value("parameters", json::object());
  if (!p.is_object()) return param_error("\"parameters\" must be an object");
  const CK_MECHANISM_TYPE t = m->m.mechanism;
  if (is_pss(t)) {
    FH_TRY(pss_parameters(p, *m));
  } else if (t == CKM_RSA_PKCS_OAEP) {
    FH_TRY(oaep_parameters(p, *m));
  } else if (t == CKM_AES_GCM || t == CKM_AES_CBC_PAD || t == CKM_AES_CBC) {
    FH_TRY(iv_parameters(p, *m, encrypting));
  } else if (body.contains("parameters")) {
    return param_error("parameters for " + name + " are not taken through REST");
  }
  return m;
}

}  // namespace ferrohsm::server::rest
