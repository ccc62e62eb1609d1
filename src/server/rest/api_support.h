// What the REST handlers share (api.cc, api_wrap.cc, api_import.cc): reading fields of
// a JSON body, a PKCS#11 session for one request, finding a key by its id, a key's JSON
// form, and the one table of usages a key may be given.
#pragma once

#include "core/core.h"
#include "server/rest/api.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ferrohsm::server::rest {

Reply json_reply(const nlohmann::json& j, int status = 200);

// CKR_ARGUMENTS_BAD (400): a body the caller got wrong.
Error bad(const std::string& why);

Result<std::string> string_field(const nlohmann::json& body, const char* name);
// A base64url string field, decoded.
Result<Bytes> bytes_field(const nlohmann::json& body, const char* name);

// A session on `app` for the length of one request.
class ScopedSession {
 public:
  static Result<ScopedSession> open(App& app, CK_SLOT_ID slot, bool rw) {
    FH_ASSIGN_OR_RETURN(CK_SESSION_HANDLE h, app.open_session(slot, CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0)));
    return ScopedSession(app, h);
  }
  ScopedSession(ScopedSession&& o) noexcept : app_(o.app_), h_(o.h_) { o.app_ = nullptr; }
  ~ScopedSession() {
    if (app_ != nullptr) (void)app_->close_session(h_);
  }
  CK_SESSION_HANDLE handle() const { return h_; }

 private:
  ScopedSession(App& app, CK_SESSION_HANDLE h) : app_(&app), h_(h) {}
  App* app_;
  CK_SESSION_HANDLE h_;
};

Result<CK_SLOT_ID> slot_of(App& app, const std::string& label);
// A blank-padded PKCS#11 string without its padding.
std::string trimmed(const CK_UTF8CHAR* p, size_t n);

// One attribute's value (length query, then the value).
Result<Bytes> read_attr(App& app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type);
Result<CK_ULONG> read_ulong(App& app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type);
Result<std::vector<CK_OBJECT_HANDLE>> find(App& app, CK_SESSION_HANDLE h, const AttrMap& tmpl, CK_ULONG max);
// Every object that matches (in batches).
Result<std::vector<CK_OBJECT_HANDLE>> find_all(App& app, CK_SESSION_HANDLE h, const AttrMap& tmpl);
// A CK_BBOOL attribute; false when it is false, absent or unreadable.
bool read_bool(App& app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type);

// An object by its id (CKA_UNIQUE_ID): a private or secret key, or a certificate. The
// handle the login found before when that handle still names this id (a destroyed
// key's handle does not), else a find (a scan: the store does not index the id).
Result<CK_OBJECT_HANDLE> key_by_id(Login& l, CK_SESSION_HANDLE h, const std::string& id);
// The key id names the private (or secret) key; a pair verifies and encrypts with its
// public half (the same CKA_ID). A secret key is its own.
Result<CK_OBJECT_HANDLE> public_half(App& app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key);

std::string class_name(CK_ULONG c);
// {"id", "label", "class", "type"}: how every answer shows a key (or certificate).
Result<nlohmann::json> key_json(App& app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o);

// The usages a key may be given, and the attribute each sets on which half.
struct UsageRow {
  const char* name;
  CK_ATTRIBUTE_TYPE attr;
  bool on_private;  // of a pair: the private half (else the public one)
};
inline constexpr UsageRow kUsages[] = {
    {"sign", CKA_SIGN, true},       {"verify", CKA_VERIFY, false}, {"decrypt", CKA_DECRYPT, true},
    {"encrypt", CKA_ENCRYPT, false}, {"unwrap", CKA_UNWRAP, true},   {"wrap", CKA_WRAP, false},
    {"derive", CKA_DERIVE, true},
};

// The body's "usages" (or `dflt` without it) as CKA_SIGN, CKA_WRAP …: true for those
// named, false for the others, on a pair's private half (sign, decrypt, unwrap, derive)
// or public half (verify, encrypt, wrap); a secret key takes them all (`pub` unused).
// CKR_ARGUMENTS_BAD for an unknown one.
Status set_usages(const nlohmann::json& body, const std::vector<std::string>& dflt, bool pair, AttrMap& pub,
                  AttrMap& priv);

}  // namespace ferrohsm::server::rest
