#include "server/pkcs11_service.h"

#include "backends/bridge/bridge_backend.h"
#include "base/log.h"
#include "base/pkcs11_table.h"
#include "server/config.h"
#include "store/open_store.h"
#include "core/app.h"
#include "core/core.h"
#include "pkcs11/module_state.h"
#include "pkcs11/shim.h"
#include "wire/call.h"
#include "wire/malformed.h"

namespace ferrohsm::server {

void dispatch(const wire::Call& in, wire::Return& out, uint64_t budget) {
  wire::server::Context ctx;
  ctx.budget = budget;
  ctx.message_mechanism = [](CK_SESSION_HANDLE h, wire::MsgKind k) { return p11::message_mechanism(h, k); };
  wire::server::Load l;
  switch (in.function()) {
#define FH_FN(name, params, args, codecs)                                                              \
  FH_IF_REMOTE(codecs)                                                                                 \
  (case kFn_##name: {                                                                                \
    auto body = [&] params -> CK_RV {                                                                \
      using namespace ::ferrohsm::wire;                                                              \
      using namespace ::ferrohsm::wire::server;                                                      \
      l = run(ctx, in, out, std::make_tuple codecs, [&] { return fh_##name args; });                   \
      return CKR_OK;                                                                                 \
    };                                                                                               \
    wire::server::call_with_fresh_arguments(body);                                                   \
    break;                                                                                           \
  })
#include "base/pkcs11_functions.inc"
#undef FH_FN
    default:
      throw wire::MalformedMessage("function " + std::to_string(in.function()) + " is not served");
  }
  if (l.what == wire::server::Load::kMalformed) throw wire::MalformedMessage(l.why);
}

namespace {

class Pkcs11Application : public Application {
 public:
  Pkcs11Application(std::unique_ptr<App> app, uint64_t budget) : app_(std::move(app)), budget_(budget) {}
  void call(const wire::Call& in, wire::Return& out) override {
    p11::AppScope scope(app_.get());
    dispatch(in, out, budget_);
  }
  void closed() override { app_->close(); }

 private:
  std::unique_ptr<App> app_;
  uint64_t budget_;
};

}  // namespace

Pkcs11Service::Pkcs11Service(std::shared_ptr<Core> core, Pkcs11ServiceOptions options)
    : core_(std::move(core)), options_(options) {}

Pkcs11Service::~Pkcs11Service() = default;

std::unique_ptr<Application> Pkcs11Service::open(const Peer& peer, const Grant& grant) {
  AppOptions o;
  o.identity = peer.identity;
  o.admin = grant.admin;
  o.max_sessions = options_.max_sessions_per_connection;
  o.sees_token = [grant](const std::string& label) { return grant.sees(label); };
  // Room for the envelope of the Return around the outputs.
  const uint64_t budget = options_.max_message > 4096 ? options_.max_message - 4096 : options_.max_message;
  return std::make_unique<Pkcs11Application>(core_->open_app(std::move(o)), budget);
}

std::vector<uint32_t> Pkcs11Service::functions() const {
  std::vector<uint32_t> out;
#define FH_FN(name, params, args, codecs) FH_IF_REMOTE(codecs)(out.push_back(kFn_##name);)
#include "base/pkcs11_functions.inc"
#undef FH_FN
  return out;
}

bool Pkcs11Service::slow(uint32_t function) const {
  switch (function) {
    case kFn_C_Login: case kFn_C_LoginUser: case kFn_C_InitToken: case kFn_C_InitPIN: case kFn_C_SetPIN:
    case kFn_C_GenerateKey: case kFn_C_GenerateKeyPair: case kFn_C_DeriveKey: case kFn_C_UnwrapKey:
    case kFn_C_CreateObject: case kFn_C_CopyObject: case kFn_C_DestroyObject: case kFn_C_SetAttributeValue:
    case kFn_C_CloseAllSessions:
      return true;  // a PIN derivation, a key generation or a durable commit
    default:
      return false;
  }
}

Result<std::unique_ptr<Service>> make_pkcs11_service(const ServerConfig& config) {
  const Config& cfg = config.core;
  auto store = store::open_store(store_settings(cfg));
  if (!store.ok()) {
    log().error("cannot open the store {}: {}", store_where(cfg), store.error().message);
    return store.error();
  }
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Core> core,
                      Core::open(cfg, std::move(*store), std::chrono::milliseconds(config.login_grace_ms)));
  bridge::add_bridges(*core, cfg.bridges);
  if (!cfg.bridges.empty())
    log().warn("a login on a bridged token is its library's, shared by every connection that sees the token: "
               "give each bridged token to one peer ([[access]] tokens)");
  log().info("serving the store {}", core->store().describe());
  Pkcs11ServiceOptions o;
  o.max_message = config.limits.max_message;
  o.max_sessions_per_connection = config.limits.max_sessions_per_connection;
  return std::unique_ptr<Service>(std::make_unique<Pkcs11Service>(std::move(core), o));
}

Status Pkcs11Service::reload(const ServerConfig& config) {
  core_->policy().set(config.core.policy);
  log().info("reload: {} policy rules in force", config.core.policy.rules.size());
  return {};
}

ServiceStatus Pkcs11Service::status() const {
  ServiceStatus s;
  CoreStatus c = core_->status();
  s.sessions = c.sessions;
  s.logged_in_tokens = c.logged_in_tokens;
  return s;
}

}  // namespace ferrohsm::server
