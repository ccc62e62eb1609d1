// One worker of one configured slot: it owns a persistent session on the slot's token
// (through a shared Module), a small state machine and a cache of found key handles.
//
//   uninitialized ──start/open──▶ open ──login──▶ logged_in
//                                  ▲  ◀──logout──┤
//                                  │  ◀──timeout─┘ (then the reauthentication policy)
//   any ──shutdown──▶ terminated
//
// Calls on one worker serialise on its mutex. Errors are recovered through the ladder
// in recovery.h, at most kMaxRecoveriesPerCall steps per call; every step taken is a
// slot.recover event. A PIN is borrowed for one C_Login and never stored.
#pragma once

#include <ferrohsm/client/config.h>
#include <ferrohsm/client/recovery.h>
#include <ferrohsm/client/session.h>
#include <ferrohsm/client/telemetry.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>

namespace ferrohsm::client {

class Module;

enum class SlotState { uninitialized, open, logged_in, terminated };
const char* slot_state_name(SlotState state);

// The last time any worker of a slot was used; idle timeouts are per slot, so a busy
// worker keeps the whole slot's login alive.
// login_epoch counts the logins and lost logins any worker of the slot has seen: a
// call that failed while it moved ran across a login change and is retried.
struct SlotActivity {
  std::atomic<std::int64_t> last_ns{0};
  std::atomic<std::uint64_t> login_epoch{0};
  void touch();
  std::chrono::steady_clock::time_point last() const;
};

class SlotServer {
 public:
  SlotServer(std::shared_ptr<const SlotConfig> config, int worker_index, std::shared_ptr<Telemetry> telemetry,
             std::shared_ptr<SlotActivity> activity = nullptr);
  ~SlotServer();
  SlotServer(const SlotServer&) = delete;
  SlotServer& operator=(const SlotServer&) = delete;

  // Validates the configuration (the pool-size rule among others), loads the module,
  // finds the slot and opens the session: uninitialized → open.
  Status start();

  Result<Bytes> sign(std::string_view key_ref, std::span<const std::uint8_t> data, const Mechanism& mechanism,
                     std::optional<Secret> pin = std::nullopt);
  Result<bool> verify(std::string_view key_ref, std::span<const std::uint8_t> data,
                      std::span<const std::uint8_t> signature, const Mechanism& mechanism,
                      std::optional<Secret> pin = std::nullopt);
  // Work the typed calls do not cover (key generation, objects whose labels are computed
  // at run time): `op` runs on this worker's session with the same treatment as sign().
  // The session is opened if needed and, when `needs_login`, logged in through the PIN
  // chain; an error `op` returns with ErrorKind::pkcs11 climbs the recovery ladder by its
  // CK_RV, and then `op` runs again on the (possibly new) session — so `op` must be safe
  // to repeat. Any other error kind is final. `op` finds its own objects: the worker's
  // key-handle cache is not used. A private object `op` cannot find while
  // Session::logged_in() says false should be reported as CKR_USER_NOT_LOGGED_IN so that
  // the ladder logs in again. One `slot.run` event; its mechanism field is `operation`.
  using SessionOp = std::function<Status(Session&)>;
  Status run(std::string_view operation, const SessionOp& op, bool needs_login = true,
             std::optional<Secret> pin = std::nullopt);
  // Explicit login: the PIN chain, whatever the policy; clears a `fail` lockout.
  Status login(std::optional<Secret> pin = std::nullopt);
  Status logout();
  // The state; applies an idle timeout that has passed when the worker is not busy.
  SlotState status();
  // open → … if the slot has been idle past its timeout: logged_in → open. Returns true if it did.
  bool expire_if_idle(std::chrono::steady_clock::time_point now);
  void shutdown();

  const SlotConfig& config() const { return *config_; }
  int worker_index() const { return worker_index_; }
  // True when re-initialisation gave up: the registry restarts such a worker.
  bool failed() const { return failed_.load(); }
  std::size_t cached_key_count() const;

 private:
  struct Live;  // the session and the key handles found on it: they live and die together

  Status open_locked();
  Status ensure_open_locked();
  Status ensure_logged_in_locked(const std::optional<Secret>& pin);
  Status login_locked(const std::optional<Secret>& pin, PinReason reason);
  Result<CK_OBJECT_HANDLE> find_key_locked(CK_OBJECT_CLASS klass, std::string_view key_ref);
  Status recover_locked(RecoveryStep step, const std::string& mechanism);
  void drop_session_locked();
  bool expire_locked(std::chrono::steady_clock::time_point now);
  void emit(const char* name, const std::string& mechanism, std::chrono::steady_clock::time_point start,
            const std::string& result, const char* step = "") const;
  std::string where() const;

  template <typename T, typename Op>
  Result<T> run_locked(const std::optional<Secret>& pin, bool needs_login, const std::string& mechanism, Op&& op);

  std::shared_ptr<const SlotConfig> config_;
  int worker_index_;
  std::shared_ptr<Telemetry> telemetry_;
  std::shared_ptr<SlotActivity> activity_;

  mutable std::mutex mu_;  // serialises every call on this worker
  std::shared_ptr<Module> module_;
  std::unique_ptr<Live> live_;
  std::atomic<SlotState> state_{SlotState::uninitialized};
  bool lost_login_ = false;  // logged in once, then logged out by timeout or the token
  std::atomic<bool> failed_{false};
};

}  // namespace ferrohsm::client
