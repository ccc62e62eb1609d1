// What an App records in the audit trail (docs/AUDIT.md): one record for every call that
// changes state or uses a key, and for every unexpected error of any call. An App with
// audit off has no AppAudit, and its calls only test a null pointer.
//
// Required mode ([audit] required = true): a call that changes state (kChange) first
// writes an intent record and waits for it to be durable — if it cannot, the call fails
// with CKR_FUNCTION_FAILED before anything happens; then it acts, and its outcome
// record is made durable before it returns. A key-use *Init (kUse) changes nothing in
// the store: it acts, then waits for its record; if the record cannot be written the
// operation it started is ended and the call fails, so no key is used unrecorded.
#pragma once

#include "audit/writer.h"
#include "core/policy.h"
#include "core/backend.h"
#include "core/op_kind.h"

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>

namespace ferrohsm {

class App;
struct AppOptions;

enum class AuditKind {
  kChange,  // changes the token or its objects, or the login state
  kUse,     // starts an operation with a key (or a digest of one)
  kErrors,  // recorded only when it fails unexpectedly
};

// What a call is about, as far as its arguments tell.
struct AuditCall {
  const char* function;
  std::optional<CK_SESSION_HANDLE> session;
  std::optional<CK_SLOT_ID> slot;
  const CK_MECHANISM* mechanism = nullptr;
  CK_OBJECT_HANDLE object = 0;            // the key or object it acts on
  std::optional<OpKind> starts;           // the operation a kUse call starts
  std::string detail;
};

class AppAudit {
 public:
  AppAudit(audit::Writer& writer, App& app, const AppOptions& options);

  template <typename R, typename F>
  R run(AuditKind kind, const AuditCall& call, F&& act) {
    if (kind == AuditKind::kErrors) {
      R r = act();
      if (!r.ok() && unexpected(r.rv())) (void)write(begin(call), r.rv(), 0, false);
      return r;
    }
    const auto start = std::chrono::steady_clock::now();
    audit::Record rec = begin(call);
    if (writer_.required() && kind == AuditKind::kChange) {
      rec.intent = true;
      if (!writer_.write(rec, true).ok())
        return make_error(CKR_FUNCTION_FAILED, std::string("the audit record of ") + call.function +
                                                   " cannot be written ([audit] required): nothing was done");
      rec.intent = false;
    }
    R r = act();
    if (!r.ok()) {
      if (std::optional<std::string> rule = policy_rule_of(r.error())) rec.rule = std::move(*rule);  // refused by [[policy]]
    }
    if constexpr (std::is_same_v<R, Result<CK_OBJECT_HANDLE>>) {
      if (r.ok()) describe(*call.session, *r, rec);
    } else if constexpr (std::is_same_v<R, Result<std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>>>) {
      if (r.ok()) describe(*call.session, r->second, rec);
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    Status written = write(std::move(rec), r.rv(), us.count(), writer_.required());
    if (!written.ok() && writer_.required()) {
      if (r.ok() && call.starts && call.session) cancel(*call.session, *call.starts);
      return make_error(CKR_FUNCTION_FAILED, std::string("the audit record of ") + call.function +
                                                 " cannot be written ([audit] required)");
    }
    return r;
  }

  // A token's label or serial may change (C_InitToken): forget what was looked up.
  void forget_tokens();
  // An object's label may change, or the object go (C_SetAttributeValue, C_DestroyObject).
  void forget_object(CK_OBJECT_HANDLE o);

 private:
  static bool unexpected(CK_RV rv) {
    return rv == CKR_FUNCTION_FAILED || rv == CKR_GENERAL_ERROR || rv == CKR_DEVICE_ERROR;
  }
  audit::Record begin(const AuditCall& call);
  // The object's CKA_UNIQUE_ID, class and label, from its backend.
  void describe(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, audit::Record& rec);
  Status write(audit::Record rec, CK_RV rv, int64_t duration_us, bool wait);
  void cancel(CK_SESSION_HANDLE h, OpKind kind);

  audit::Writer& writer_;
  App& app_;
  std::string identity_;
  int64_t pid_ = 0;
  std::string exe_;

  struct TokenNames {
    std::string label, serial;
  };
  std::mutex tokens_mu_;
  std::map<CK_SLOT_ID, TokenNames> tokens_;
  // What describe() found, by handle: a key is used again and again, and its unique id
  // and class never change (its label only through this App's C_SetAttributeValue).
  struct ObjectNames {
    std::string id, klass, label;
  };
  std::mutex objects_mu_;
  std::unordered_map<CK_OBJECT_HANDLE, ObjectNames> objects_;
};

}  // namespace ferrohsm
