#include "core/app_audit.h"

#include "base/names.h"
#include "core/app.h"

#include <unistd.h>

#include <filesystem>

namespace ferrohsm {

namespace {

std::string trimmed(const CK_UTF8CHAR* p, size_t n) {
  std::string s(reinterpret_cast<const char*>(p), n);
  s.erase(s.find_last_not_of(' ') + 1);
  return s;
}

}  // namespace

AppAudit::AppAudit(audit::Writer& writer, App& app, const AppOptions& options) : writer_(writer), app_(app) {
  // The embedded library is its process: who runs it is the uid, pid and executable. A
  // server's application is its peer, as the server established it.
  identity_ = options.identity == "embedded" ? "uid:" + std::to_string(getuid()) : options.identity;
  if (options.in_process) {
    pid_ = getpid();
    std::error_code ec;
    exe_ = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  }
}

void AppAudit::forget_tokens() {
  std::lock_guard lock(tokens_mu_);
  tokens_.clear();
}

audit::Record AppAudit::begin(const AuditCall& call) {
  audit::Record r;
  r.time_us = audit::now_us();
  r.identity = identity_;
  r.pid = pid_;
  r.exe = exe_;
  r.function = call.function;
  r.detail = call.detail;
  r.session = call.session;
  std::optional<CK_SLOT_ID> slot = call.slot;
  if (!slot && call.session) {
    auto s = app_.session_slot(*call.session);
    if (s.ok()) slot = *s;
  }
  if (slot) {
    r.slot = *slot;
    std::lock_guard lock(tokens_mu_);
    auto it = tokens_.find(*slot);
    if (it == tokens_.end()) {
      TokenNames n;
      auto info = app_.token_info(*slot);
      if (info.ok() && (info->flags & CKF_TOKEN_INITIALIZED)) {
        n.label = trimmed(info->label, sizeof info->label);
        n.serial = trimmed(info->serialNumber, sizeof info->serialNumber);
        it = tokens_.emplace(*slot, std::move(n)).first;
      }
    }
    if (it != tokens_.end()) {
      r.token = it->second.label;
      r.serial = it->second.serial;
    }
  }
  if (call.mechanism) r.mechanism = mechanism_name(call.mechanism->mechanism);
  if (call.object != 0 && call.session) describe(*call.session, call.object, r);
  return r;
}

void AppAudit::forget_object(CK_OBJECT_HANDLE o) {
  std::lock_guard lock(objects_mu_);
  objects_.erase(o);
}

void AppAudit::describe(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, audit::Record& rec) {
  {
    std::lock_guard lock(objects_mu_);
    auto it = objects_.find(o);
    if (it != objects_.end()) {
      rec.object_id = it->second.id;
      rec.object_class = it->second.klass;
      rec.object_label = it->second.label;
      return;
    }
  }
  char id[128] = {}, label[256] = {};
  CK_OBJECT_CLASS klass = 0;
  CK_ATTRIBUTE t[] = {{CKA_UNIQUE_ID, id, sizeof id}, {CKA_CLASS, &klass, sizeof klass}, {CKA_LABEL, label, sizeof label}};
  // Each attribute the backend cannot give (too long, not there) comes back
  // CK_UNAVAILABLE_INFORMATION and is left out; the others are still filled.
  (void)app_.get_attributes(h, o, std::span<CK_ATTRIBUTE>(t, 3));
  if (t[0].ulValueLen != CK_UNAVAILABLE_INFORMATION) rec.object_id.assign(id, t[0].ulValueLen);
  if (t[1].ulValueLen == sizeof klass) rec.object_class = object_class_name(klass);
  if (t[2].ulValueLen != CK_UNAVAILABLE_INFORMATION) rec.object_label.assign(label, t[2].ulValueLen);
  if (rec.object_id.empty() && rec.object_class.empty()) {
    rec.object_id = "handle:" + std::to_string(o);
    return;  // not found (yet): nothing to remember
  }
  std::lock_guard lock(objects_mu_);
  if (objects_.size() >= 4096) objects_.clear();  // bounded; a miss only costs a look-up
  objects_[o] = ObjectNames{rec.object_id, rec.object_class, rec.object_label};
}

Status AppAudit::write(audit::Record rec, CK_RV rv, int64_t duration_us, bool wait) {
  rec.rv = rv_name(rv);
  rec.duration_us = duration_us;
  return writer_.write(std::move(rec), wait);
}

void AppAudit::cancel(CK_SESSION_HANDLE h, OpKind kind) { app_.end_operation(h, kind); }

}  // namespace ferrohsm
