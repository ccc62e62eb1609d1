// The audit checkpoints' signer (audit::Signer) over a key kept sealed in the store: an
// Ed25519 key pair labelled "ferrohsm-audit" in the token named by [audit] token, made
// on first use. It works through an App of its own (not audited: signing a checkpoint
// must not write a record), logged in with the PIN from [audit] pin ("env:NAME" or
// "file:PATH"), which is read when needed and never kept.
#pragma once

#include "audit/signer.h"
#include "core/app.h"

#include <memory>
#include <mutex>
#include <string>

namespace ferrohsm {

class Core;

inline constexpr char kAuditKeyLabel[] = "ferrohsm-audit";

class AuditSigner final : public audit::Signer {
 public:
  AuditSigner(Core& core, std::string token, std::string pin_source);
  ~AuditSigner() override;

  Result<Bytes> sign(ByteView message) override;
  Result<Bytes> public_key_spki() override;

 private:
  Status ready();  // under mu_
  Result<CK_OBJECT_HANDLE> find(CK_OBJECT_CLASS klass);

  Core& core_;
  const std::string token_, pin_source_;
  std::mutex mu_;
  std::unique_ptr<App> app_;
  CK_SESSION_HANDLE session_ = 0;
  CK_OBJECT_HANDLE key_ = 0;
  Bytes spki_;
};

}  // namespace ferrohsm
