#include "pkcs11/module_state.h"

#include "backends/bridge/bridge_backend.h"
#include "base/log.h"
#include "core/core.h"
#include "core/hsm.h"
#include "pkcs11/untrusted_read.h"
#include "sidecar/client.h"
#include "sidecar/functions.h"
#include "store/open_store.h"

#include <limits.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

namespace ferrohsm::p11 {

// One initialised library: the embedded core and its one application, or a sidecar client.
struct ModuleState {
  std::shared_ptr<Core> core;
  std::unique_ptr<App> app;
  std::unique_ptr<sidecar::Client> client;
};

namespace {

std::atomic<ModuleState*> g_state{nullptr};
std::atomic<bool> g_sidecar{false};
std::mutex g_init_mu;
ModuleState* g_left_behind = nullptr;  // the parent's state in a forked child, kept reachable
thread_local App* t_app = nullptr;     // ferrohsm-server: the connection's App (AppScope)

// Calls in flight, sharded so that threads do not write a shared cache line: a thread
// takes a shard at its first call and keeps it.
struct alignas(64) Shard {
  std::atomic<long> calls{0};
};
constexpr unsigned kShards = 64;
Shard g_shards[kShards];
std::atomic<unsigned> g_next_shard{0};

std::atomic<long>& my_shard() {
  thread_local std::atomic<long>* mine =
      &g_shards[g_next_shard.fetch_add(1, std::memory_order_relaxed) % kShards].calls;
  return *mine;
}

// Returns once no call that may have read the old pointer is still running.
void wait_for_calls_to_leave() {
  for (Shard& s : g_shards) {
    for (int spins = 0; s.calls.load(std::memory_order_seq_cst) != 0; ++spins) {
      if (spins < 64) std::this_thread::yield();
      else std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
}

void forget_after_fork() {
  // The child must not use the parent's store connection or locks; the old state
  // is left behind (never freed) and the module reads as uninitialised. Only the
  // forking thread lives on in the child, so no other call is in flight there.
  ModuleState* old = g_state.exchange(nullptr);
  if (old != nullptr) {
    g_left_behind = old;
    // The parent's connection stays the parent's: the child forgets its socket unused.
    if (old->client) old->client->abandon();
    sidecar::set_active(nullptr);
  }
  g_sidecar.store(false);
  for (Shard& s : g_shards) s.calls.store(0);
  new (&g_init_mu) std::mutex();
}

void install_fork_handler() {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(nullptr, nullptr, forget_after_fork); });
}

// pReserved: NULL, or FerroHSM's extension, the C string "ferrohsm_conf=<path>" with a
// path of at most PATH_MAX bytes. It is copied without being dereferenced (see
// untrusted_read.h); anything else is CKR_ARGUMENTS_BAD, as the specification wants
// for a non-NULL pReserved.
Result<std::string> config_from_reserved(CK_VOID_PTR reserved) {
  if (reserved == nullptr) return std::string();
  static constexpr char kPrefix[] = "ferrohsm_conf=";
  constexpr size_t kPrefixLen = sizeof kPrefix - 1;
  std::string why;
  std::optional<std::string> s = read_untrusted_cstring(reserved, kPrefixLen + PATH_MAX, &why);
  if (!s) return make_error(CKR_ARGUMENTS_BAD, "pReserved " + why + "; it must be NULL or \"ferrohsm_conf=<path>\"");
  if (s->compare(0, kPrefixLen, kPrefix) != 0)
    return make_error(CKR_ARGUMENTS_BAD, "pReserved must be NULL or \"ferrohsm_conf=<path>\"");
  std::string path = s->substr(kPrefixLen);
  if (path.empty()) return make_error(CKR_ARGUMENTS_BAD, "ferrohsm_conf= names no file");
  return path;
}

}  // namespace

CallScope::CallScope() noexcept : calls_(&my_shard()) {
  // Counted before the pointer is read (both seq_cst): if C_Finalize swapped the pointer
  // first, this call reads null; otherwise C_Finalize sees the count and waits for it.
  calls_->fetch_add(1, std::memory_order_seq_cst);
  state_ = g_state.load(std::memory_order_seq_cst);
}

CallScope::~CallScope() { calls_->fetch_sub(1, std::memory_order_seq_cst); }

Result<App*> CallScope::hsm() const {
  if (t_app != nullptr) return t_app;
  if (state_ == nullptr || !state_->app) return make_error(CKR_CRYPTOKI_NOT_INITIALIZED, "call C_Initialize first");
  return state_->app.get();
}

sidecar::Client* CallScope::sidecar() const { return state_ != nullptr ? state_->client.get() : nullptr; }

bool sidecar_mode() { return g_sidecar.load(std::memory_order_relaxed); }

AppScope::AppScope(App* app) noexcept : previous_(t_app) { t_app = app; }
AppScope::~AppScope() { t_app = previous_; }

std::optional<CK_MECHANISM_TYPE> message_mechanism(CK_SESSION_HANDLE h, wire::MsgKind kind) {
  CallScope scope;
  auto app = scope.hsm();
  if (!app.ok()) return std::nullopt;
  if (kind == wire::kEncrypt) return (*app)->message_mechanism(h, CipherDir::Encrypt);
  if (kind == wire::kDecrypt) return (*app)->message_mechanism(h, CipherDir::Decrypt);
  return std::nullopt;  // message-based signing takes no per-message parameter
}

namespace {

// mode = "sidecar": the client of a ferrohsm-server.
std::unique_ptr<ModuleState> start_sidecar(const Config& cfg) {
  sidecar::Settings s;
  s.endpoints = cfg.sidecar.endpoints;
  s.cert = cfg.sidecar.cert;
  s.key = cfg.sidecar.key;
  s.ca = cfg.sidecar.ca;
  s.server_name = cfg.sidecar.server_name;
  s.busy_poll = std::chrono::microseconds(cfg.sidecar.busy_poll_us);
  auto state = std::make_unique<ModuleState>();
  state->client = std::make_unique<sidecar::Client>(std::move(s));
  // A server that is not there yet is no error: the first calls say so, and later ones
  // connect when it is.
  if (!state->client->ensure_connected())
    log().warn("sidecar: no server reachable yet at {}; slots answer CKR_TOKEN_NOT_PRESENT until one is",
               cfg.sidecar.endpoints.front());
  return state;
}

// mode = "embedded": the store, the core and this process's one application.
Result<std::unique_ptr<ModuleState>> start_embedded(const Config& cfg) {
  auto store = store::open_store(store_settings(cfg));
  if (!store.ok()) {
    log().error("cannot open the store {}: {}", store_where(cfg), store.error().message);
    return store.error();
  }
  FH_ASSIGN_OR_RETURN(std::shared_ptr<Core> core, Core::open(cfg, std::move(*store)));
  bridge::add_bridges(*core, cfg.bridges);
  auto state = std::make_unique<ModuleState>();
  // The process is the application: rules match its uid, and audit records its pid and exe.
  state->app = core->open_app(AppOptions{.identity = "uid:" + std::to_string(::getuid()), .in_process = true});
  state->core = std::move(core);
  log().info("initialised; store {}", state->core->store().describe());
  return state;
}

}  // namespace

Status initialize(CK_VOID_PTR init_args) {
  install_fork_handler();
  std::string conf_path;
  if (init_args != nullptr) {
    auto* a = static_cast<const FH_C_INITIALIZE_ARGS*>(init_args);
    int given = (a->CreateMutex != nullptr) + (a->DestroyMutex != nullptr) + (a->LockMutex != nullptr) +
                (a->UnlockMutex != nullptr);
    if (given != 0 && given != 4)
      return make_error(CKR_ARGUMENTS_BAD, "mutex callbacks must be all given or all NULL");
    if (given == 4 && !(a->flags & CKF_OS_LOCKING_OK))
      return make_error(CKR_CANT_LOCK, "FerroHSM locks with the OS's primitives only; set CKF_OS_LOCKING_OK");
    auto conf = config_from_reserved(a->pReserved);
    if (!conf.ok()) {
      log().error("C_Initialize: {}", conf.error().message);
      return conf.error();
    }
    conf_path = *conf;
  }
  std::lock_guard<std::mutex> lock(g_init_mu);
  if (g_state.load() != nullptr) return make_error(CKR_CRYPTOKI_ALREADY_INITIALIZED, "already initialised");
  auto cfg = load_config(conf_path);
  if (!cfg.ok()) {
    log().error("{}", cfg.error().message);
    return cfg.error();
  }
  std::string why;
  if (!configure_logging(cfg->log_level, cfg->log_destination, &why)) log().error("{}", why);
  if (cfg->dev_allow_weak_kdf && cfg->kdf_iterations < kMinKdfIterations)
    log().warn("dev.allow_weak_kdf: PINs are stretched with only {} PBKDF2 iterations; never use this in production",
               cfg->kdf_iterations);
  if (cfg->mode == "sidecar") {
    std::unique_ptr<ModuleState> state = start_sidecar(*cfg);
    sidecar::set_active(state->client.get());
    sidecar::begin_watch();
    g_sidecar.store(true);
    g_state.store(state.release(), std::memory_order_seq_cst);
    return {};
  }
  FH_ASSIGN_OR_RETURN(std::unique_ptr<ModuleState> state, start_embedded(*cfg));
  g_sidecar.store(false);
  g_state.store(state.release(), std::memory_order_seq_cst);
  return {};
}

Status finalize(CK_VOID_PTR reserved) {
  if (reserved != nullptr) return make_error(CKR_ARGUMENTS_BAD, "pReserved must be NULL");
  std::lock_guard<std::mutex> lock(g_init_mu);
  std::unique_ptr<ModuleState> state(g_state.exchange(nullptr, std::memory_order_seq_cst));
  if (!state) return make_error(CKR_CRYPTOKI_NOT_INITIALIZED, "not initialised");
  // Calls that read the pointer before the swap finish on the live state; later ones
  // answer CKR_CRYPTOKI_NOT_INITIALIZED. Only then is it wiped and freed. A thread blocked
  // in C_WaitForSlotEvent is woken and answers CKR_CRYPTOKI_NOT_INITIALIZED.
  if (state->app) state->app->shutdown();
  if (state->client) {
    sidecar::set_active(nullptr);
    sidecar::wake_waiters();
  }
  wait_for_calls_to_leave();
  g_sidecar.store(false);
  if (state->app) state->app->wipe();
  state.reset();  // the App before the Core it belongs to (member order), the client's connection
  return {};
}

}  // namespace ferrohsm::p11
