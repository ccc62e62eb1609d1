#include "core/core.h"

#include "core/audit_signer.h"
#include "core/hsm.h"
#include "base/log.h"

#include <algorithm>

namespace ferrohsm {

Core::Core(Config cfg, std::shared_ptr<store::ObjectStore> store, std::chrono::milliseconds grace)
    : cfg_(std::move(cfg)), store_(std::move(store)), keys_(grace), policy_(cfg_.policy) {}

Result<std::shared_ptr<Core>> Core::open(Config cfg, std::shared_ptr<store::ObjectStore> store,
                                         std::chrono::milliseconds login_grace) {
  if (!store) return make_error(CKR_GENERAL_ERROR, "no object store");
  std::shared_ptr<Core> core(new Core(std::move(cfg), std::move(store), login_grace));
  const AuditConfig& a = core->cfg_.audit;
  if (!a.file.empty()) {
    audit::Options o{a.file, a.rotate_bytes, a.rotate_seconds, a.checkpoint_seconds, a.checkpoint_records, a.required,
                     a.syslog};
    FH_ASSIGN_OR_RETURN(core->audit_, audit::Writer::open(std::move(o)));
    if (!a.token.empty()) {
      core->audit_signer_ = std::make_shared<AuditSigner>(*core, a.token, a.pin);
      core->audit_->set_signer(core->audit_signer_);
    } else {
      log().warn("audit: no [audit] token: checkpoints are not signed");
    }
  }
  return core;
}

Core::~Core() {
  // The closing checkpoint is signed through an App of this Core: before anything goes.
  if (audit_) audit_->close();
  audit_.reset();
  audit_signer_.reset();
}

void Core::add_backend(BackendMaker maker, MechanismPolicy policy) {
  backends_.push_back(BackendEntry{std::move(maker), std::move(policy)});
}

bool Core::has_mechanism_policy() const {
  if (!cfg_.token_policy.empty()) return true;
  return std::any_of(backends_.begin(), backends_.end(), [](const BackendEntry& e) { return !e.policy.empty(); });
}

std::unique_ptr<App> Core::open_app(AppOptions options) {
  std::vector<std::unique_ptr<Backend>> bridges;
  bridges.reserve(backends_.size());
  for (size_t i = 0; i < backends_.size(); ++i) {
    auto b = backends_[i].maker(App::kBridgeBase + i * App::kBridgeSpan);
    if (b.ok()) {
      bridges.push_back(std::move(*b));
    } else {
      // Backend i keeps its place (nullptr: no slots), so that backend i + 1 is still
      // bridges[i + 1] — the App routes session handles by place.
      log().error("a slot backend could not start for {}: {}", options.identity, b.error().message);
      bridges.push_back(nullptr);
    }
  }
  auto keystore = std::make_unique<Hsm>(*this);
  return std::make_unique<App>(*this, std::move(options), std::move(keystore), std::move(bridges));
}

void Core::attach(App* app) {
  std::lock_guard lock(apps_mu_);
  apps_.insert(app);
}

void Core::detach(App* app) {
  std::lock_guard lock(apps_mu_);
  apps_.erase(app);
}

CoreStatus Core::status() const {
  CoreStatus s;
  std::lock_guard lock(apps_mu_);
  s.applications = apps_.size();
  for (App* a : apps_) {
    s.sessions += a->session_count();
    for (std::string& l : a->logged_in_tokens())
      if (std::find(s.logged_in_tokens.begin(), s.logged_in_tokens.end(), l) == s.logged_in_tokens.end())
        s.logged_in_tokens.push_back(std::move(l));
  }
  return s;
}

}  // namespace ferrohsm
