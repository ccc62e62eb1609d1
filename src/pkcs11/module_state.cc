#include "pkcs11/module_state.h"

#include "core/log.h"
#include "pkcs11/untrusted_read.h"

#include <limits.h>
#include <pthread.h>

#include <atomic>
#include <cstring>
#include <mutex>

namespace ferrohsm::p11 {
namespace {

std::atomic<Hsm*> g_hsm{nullptr};
std::mutex g_init_mu;
Hsm* g_left_behind = nullptr;  // the parent's state in a forked child, kept reachable

void forget_after_fork() {
  // The child must not use the parent's store connection or locks; the old state
  // is left behind (never freed) and the module reads as uninitialised.
  Hsm* old = g_hsm.exchange(nullptr);
  if (old != nullptr) g_left_behind = old;
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

Result<Hsm*> hsm() {
  Hsm* h = g_hsm.load(std::memory_order_acquire);
  if (h == nullptr) return make_error(CKR_CRYPTOKI_NOT_INITIALIZED, "call C_Initialize first");
  return h;
}

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
  if (g_hsm.load() != nullptr) return make_error(CKR_CRYPTOKI_ALREADY_INITIALIZED, "already initialised");
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
  auto h = Hsm::open(*cfg);
  if (!h.ok()) {
    log().error("cannot open the store {}: {}", cfg->store_path, h.error().message);
    return h.error();
  }
  log().info("initialised; store {}", cfg->store_path);
  g_hsm.store(h->release(), std::memory_order_release);
  return {};
}

Status finalize(CK_VOID_PTR reserved) {
  if (reserved != nullptr) return make_error(CKR_ARGUMENTS_BAD, "pReserved must be NULL");
  std::lock_guard<std::mutex> lock(g_init_mu);
  Hsm* h = g_hsm.exchange(nullptr);
  if (h == nullptr) return make_error(CKR_CRYPTOKI_NOT_INITIALIZED, "not initialised");
  h->wipe();
  delete h;
  return {};
}

}  // namespace ferrohsm::p11
