#include "core/audit_signer.h"

#include "base/pin_source.h"
#include "core/core.h"

#include <cstdlib>
#include <cstring>

namespace ferrohsm {

namespace {

const uint8_t kEd25519Oid[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

Result<Secret> audit_pin(const std::string& source) {
  if (source.rfind("file:", 0) == 0) return read_pin_file(source.substr(5));
  if (source.rfind("env:", 0) == 0) {
    const char* v = std::getenv(source.substr(4).c_str());
    if (v == nullptr || *v == '\0')
      return make_error(CKR_PIN_INCORRECT, "audit.pin: $" + source.substr(4) + " is not set");
    return Secret(v);
  }
  return make_error(CKR_ARGUMENTS_BAD, "audit.pin must be env:NAME or file:PATH");
}

AttrMap label_template(CK_OBJECT_CLASS klass) {
  AttrMap t;
  t.set_ulong(CKA_CLASS, klass);
  t.set(CKA_LABEL, as_bytes(kAuditKeyLabel));
  return t;
}

}  // namespace

AuditSigner::AuditSigner(Core& core, std::string token, std::string pin_source)
    : core_(core), token_(std::move(token)), pin_source_(std::move(pin_source)) {}

AuditSigner::~AuditSigner() {
  std::lock_guard lock(mu_);
  if (app_) app_->close();
  app_.reset();
}

Result<CK_OBJECT_HANDLE> AuditSigner::find(CK_OBJECT_CLASS klass) {
  FH_TRY(app_->find_init(session_, label_template(klass)));
  auto found = app_->find_next(session_, 1);
  (void)app_->find_final(session_);
  if (!found.ok()) return found.error();
  return found->empty() ? CK_OBJECT_HANDLE{0} : found->front();
}

Status AuditSigner::ready() {
  if (app_ && key_ != 0 && app_->session_info(session_).ok()) return {};
  if (!app_) {
    AppOptions o;
    o.identity = "ferrohsm-audit";
    o.audited = false;
    app_ = core_.open_app(std::move(o));
  }
  app_->close();
  key_ = 0;
  FH_ASSIGN_OR_RETURN(std::vector<CK_SLOT_ID> slots, app_->slot_list(true));
  std::optional<CK_SLOT_ID> slot;
  for (CK_SLOT_ID s : slots)
    if (app_->token_label(s) == token_) slot = s;
  if (!slot) return make_error(CKR_TOKEN_NOT_PRESENT, "audit.token: no token labelled '" + token_ + "'");
  FH_ASSIGN_OR_RETURN(session_, app_->open_session(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION));
  FH_ASSIGN_OR_RETURN(Secret pin, audit_pin(pin_source_));
  Status in = app_->login(session_, CKU_USER, pin.view());
  if (!in.ok() && in.rv() != CKR_USER_ALREADY_LOGGED_IN) return in;
  FH_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE priv, find(CKO_PRIVATE_KEY));
  FH_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE pub, find(CKO_PUBLIC_KEY));
  if (priv == 0 || pub == 0) {
    // First use: the key pair is made in the token and never leaves it.
    AttrMap pt = label_template(CKO_PUBLIC_KEY), vt = label_template(CKO_PRIVATE_KEY);
    pt.set_bool(CKA_TOKEN, true);
    pt.set_bool(CKA_VERIFY, true);
    pt.set(CKA_EC_PARAMS, ByteView(kEd25519Oid, sizeof kEd25519Oid));
    vt.set_bool(CKA_TOKEN, true);
    vt.set_bool(CKA_PRIVATE, true);
    vt.set_bool(CKA_SENSITIVE, true);
    vt.set_bool(CKA_EXTRACTABLE, false);
    vt.set_bool(CKA_SIGN, true);
    CK_MECHANISM gen{CKM_EC_EDWARDS_KEY_PAIR_GEN, nullptr, 0};
    FH_ASSIGN_OR_RETURN(auto pair, app_->generate_key_pair(session_, gen, pt, vt));
    pub = pair.first;
    priv = pair.second;
  }
  CK_ATTRIBUTE a{CKA_PUBLIC_KEY_INFO, nullptr, 0};
  FH_TRY(app_->get_attributes(session_, pub, std::span<CK_ATTRIBUTE>(&a, 1)));
  spki_.assign(a.ulValueLen, 0);
  a.pValue = spki_.data();
  FH_TRY(app_->get_attributes(session_, pub, std::span<CK_ATTRIBUTE>(&a, 1)));
  key_ = priv;
  return {};
}

Result<Bytes> AuditSigner::public_key_spki() {
  std::lock_guard lock(mu_);
  FH_TRY(ready());
  return spki_;
}

Result<Bytes> AuditSigner::sign(ByteView message) {
  std::lock_guard lock(mu_);
  FH_TRY(ready());
  CK_MECHANISM m{CKM_EDDSA, nullptr, 0};
  FH_TRY(app_->sign_init(session_, m, key_));
  Bytes sig(64);
  CK_ULONG len = sig.size();
  FH_TRY(app_->sign(session_, message, OutBuf{sig.data(), &len}));
  sig.resize(len);
  return sig;
}

}  // namespace ferrohsm
