#include "pkcs11/module_state.h"

#include "core/log.h"
#include "pkcs11/untrusted_read.h"

#include <limits.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace ferrohsm::p11 {
namespace {

std::atomic<Hsm*> g_hsm{nullptr};
std::mutex g_init_mu;
Hsm* g_left_behind = nullptr;  // the parent's state in a forked child, kept reachable

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
  Hsm* old = g_hsm.exchange(nullptr);
  if (old != nullptr) g_left_behind = old;
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
  hsm_ = g_hsm.load(std::memory_order_seq_cst);
}

CallScope::~CallScope() { calls_->fetch_sub(1, std::memory_order_seq_cst); }

Result<Hsm*> CallScope::hsm() const {
  if (hsm_ == nullptr) return make_error(CKR_CRYPTOKI_NOT_INITIALIZED, "call C_Initialize first");
  return hsm_;
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
  g_hsm.store(h->release(), std::memory_order_seq_cst);
  return {};
}

Status finalize(CK_VOID_PTR reserved) {
  if (reserved != nullptr) return make_error(CKR_ARGUMENTS_BAD, "pReserved must be NULL");
  std::lock_guard<std::mutex> lock(g_init_mu);
  Hsm* h = g_hsm.exchange(nullptr, std::memory_order_seq_cst);
  if (h == nullptr) return make_error(CKR_CRYPTOKI_NOT_INITIALIZED, "not initialised");
  // Calls that read the pointer before the swap finish on the live Hsm; later ones
  // answer CKR_CRYPTOKI_NOT_INITIALIZED. Only then is it wiped and freed.
  h->shutdown();  // a thread blocked in C_WaitForSlotEvent answers CKR_CRYPTOKI_NOT_INITIALIZED
  wait_for_calls_to_leave();
  h->wipe();
  delete h;
  return {};
}

}  // namespace ferrohsm::p11
