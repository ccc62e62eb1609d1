// Two FerroHSM "servers" in one process — each its own PgStore (pool and listener), Core
// and App — on one private PostgreSQL database, as two ferrohsm-server processes would
// be: what one commits, the other honours. Objects created through one are found through
// the other; an object destroyed through one answers CKR_OBJECT_HANDLE_INVALID through
// the other's existing handle within 100 ms (measured); a PIN changed through one works
// (and the old one fails) through the other; wrong PINs through both count against one
// lockout; PostgreSQL stopped under load gives CKR_DEVICE_ERROR and then recovers with
// no restart of ours; a read-only database write-protects the tokens; a session's kept
// operation follows a key changed or destroyed through the other.
#include "core/core.h"
#include "pg_env.h"
#include "server/rest/api.h"
#include "store/open_store.h"
#include "store/pg_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace ferrohsm {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kSoPin = "so-pin-1234";
constexpr const char* kUserPin = "user-pin-1234";
constexpr uint32_t kMaxFailures = 5;
const uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

Config TestConfig() {
  Config c;
  c.kdf_iterations = 1000;
  c.dev_allow_weak_kdf = true;
  c.max_failed_logins = kMaxFailures;
  return c;
}

// One server: its own store (pool, listener), core and application.
struct Server {
  std::shared_ptr<Core> core;
  std::unique_ptr<App> app;
  CK_SLOT_ID slot = 0;

  static std::unique_ptr<Server> open(const store::StoreSettings& s) {
    auto st = store::open_store(s);
    EXPECT_TRUE(st.ok()) << st.error().message;
    if (!st.ok()) return nullptr;
    auto core = Core::open(TestConfig(), *st);
    EXPECT_TRUE(core.ok()) << core.error().message;
    if (!core.ok()) return nullptr;
    auto srv = std::make_unique<Server>();
    srv->core = *core;
    srv->app = srv->core->open_app(AppOptions{});
    return srv;
  }
  ~Server() {
    if (app) app->close();
  }
  // A session on the token, logged in as the user when `pin` is given.
  CK_SESSION_HANDLE session(const char* pin = kUserPin, CK_FLAGS rw = CKF_RW_SESSION) {
    auto h = app->open_session(slot, CKF_SERIAL_SESSION | rw);
    EXPECT_TRUE(h.ok()) << h.error().message;
    if (!h.ok()) return 0;
    if (pin != nullptr) {
      Status st = app->login(*h, CKU_USER, pin);
      EXPECT_TRUE(st.ok() || st.rv() == CKR_USER_ALREADY_LOGGED_IN) << st.error().message;
    }
    return *h;
  }
  Result<std::vector<CK_OBJECT_HANDLE>> find_label(CK_SESSION_HANDLE h, const std::string& label) {
    AttrMap t;
    t.set(CKA_LABEL, as_bytes(label));
    FH_TRY(app->find_init(h, t));
    auto r = app->find_next(h, 16);
    (void)app->find_final(h);
    return r;
  }
  Result<std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>> ec_key(CK_SESSION_HANDLE h, const std::string& label) {
    AttrMap pub, priv;
    pub.set(CKA_EC_PARAMS, ByteView(kP256, sizeof kP256));
    pub.set_bool(CKA_TOKEN, true);
    pub.set_bool(CKA_VERIFY, true);
    pub.set(CKA_LABEL, as_bytes(label));
    priv.set_bool(CKA_TOKEN, true);
    priv.set_bool(CKA_PRIVATE, true);
    priv.set_bool(CKA_SENSITIVE, true);
    priv.set_bool(CKA_SIGN, true);
    priv.set(CKA_LABEL, as_bytes(label));
    CK_MECHANISM m{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    return app->generate_key_pair(h, m, pub, priv);
  }
  Status sign(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key) {
    CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
    FH_TRY(app->sign_init(h, m, key));
    uint8_t digest[32] = {1, 2, 3};
    uint8_t sig[128];
    CK_ULONG len = sizeof sig;
    return app->sign(h, ByteView(digest, sizeof digest), OutBuf{sig, &len});
  }
  CK_RV label_of(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) {
    CK_ATTRIBUTE a{CKA_LABEL, nullptr, 0};
    Status st = app->get_attributes(h, o, std::span<CK_ATTRIBUTE>(&a, 1));
    return st.ok() ? CKR_OK : st.rv();
  }
};

// Polls `rv` until it answers `want` or `bound` passes; the time it took, or -1 ms.
double MsUntil(const std::function<CK_RV()>& rv, CK_RV want, milliseconds bound) {
  const auto t0 = Clock::now();
  for (;;) {
    if (rv() == want) return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (Clock::now() - t0 > bound) return -1;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
}

class PgCoherence : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string schema =
        store::pgtest::schema_name(std::string("coh_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_EQ(store::pgtest::server().sql("DROP SCHEMA IF EXISTS " + schema + " CASCADE"), "");
    settings_ = store::pgtest::settings_for(schema);
    OpenBoth();
  }
  void OpenBoth() {
    a_ = Server::open(settings_);
    ASSERT_TRUE(a_);
    auto slots = a_->app->slot_list(false);
    ASSERT_TRUE(slots.ok() && !slots->empty());
    a_->slot = slots->back();
    ASSERT_TRUE(a_->app->init_token(a_->slot, kSoPin, "coherence").ok());
    CK_SESSION_HANDLE so = a_->session(nullptr);
    ASSERT_TRUE(a_->app->login(so, CKU_SO, kSoPin).ok());
    ASSERT_TRUE(a_->app->init_pin(so, kUserPin).ok());
    ASSERT_TRUE(a_->app->logout(so).ok());
    ASSERT_TRUE(a_->app->close_session(so).ok());
    b_ = Server::open(settings_);
    ASSERT_TRUE(b_);
    b_->slot = a_->slot;
    auto info = b_->app->token_info(b_->slot);
    ASSERT_TRUE(info.ok()) << info.error().message;
    ASSERT_TRUE(info->flags & CKF_USER_PIN_INITIALIZED);
  }

  store::StoreSettings settings_;
  std::unique_ptr<Server> a_, b_;
};

TEST_F(PgCoherence, CreatedIsFoundAndDestroyedIsInvalidThroughTheOtherWithin100ms) {
  CK_SESSION_HANDLE ha = a_->session(), hb = b_->session();
  std::vector<double> found_ms, gone_ms;
  for (int i = 0; i < 8; ++i) {
    const std::string label = "key-" + std::to_string(i);
    auto kp = a_->ec_key(ha, label);
    ASSERT_TRUE(kp.ok()) << kp.error().message;
    const auto t0 = Clock::now();
    std::vector<CK_OBJECT_HANDLE> seen;
    for (;;) {
      auto f = b_->find_label(hb, label);
      ASSERT_TRUE(f.ok()) << f.error().message;
      if (f->size() == 2) {
        seen = *f;
        break;
      }
      ASSERT_LT(Clock::now() - t0, milliseconds(2000)) << "B never found what A created";
    }
    found_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    // B uses the private key (now cached in B, with its OpenSSL key), as a signer would.
    const CK_OBJECT_HANDLE priv_b = std::max(seen[0], seen[1]);  // the private handle carries the login epoch
    ASSERT_TRUE(b_->sign(hb, priv_b).ok());
    ASSERT_EQ(b_->label_of(hb, priv_b), CKR_OK);

    ASSERT_TRUE(a_->app->destroy_object(ha, kp->second).ok());
    const double ms = MsUntil([&] { return b_->label_of(hb, priv_b); }, CKR_OBJECT_HANDLE_INVALID, milliseconds(2000));
    ASSERT_GE(ms, 0) << "B's handle of a key A destroyed stayed valid for 2 s";
    gone_ms.push_back(ms);
    CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
    EXPECT_EQ(b_->app->sign_init(hb, m, priv_b).rv(), CKR_KEY_HANDLE_INVALID);
  }
  std::sort(found_ms.begin(), found_ms.end());
  std::sort(gone_ms.begin(), gone_ms.end());
  std::printf("created through A, found through B after: median %.2f ms, max %.2f ms\n", found_ms[found_ms.size() / 2],
              found_ms.back());
  std::printf("destroyed through A, CKR_OBJECT_HANDLE_INVALID through B's cached handle after: median %.2f ms, max "
              "%.2f ms\n",
              gone_ms[gone_ms.size() / 2], gone_ms.back());
  EXPECT_LT(found_ms.back(), 100.0);
  EXPECT_LT(gone_ms.back(), 100.0);
}

// A session keeps its last finished operation and re-arms it for the next *Init on the
// same key (core/session.h SpareOp), found by pointer with no store round trip. A
// change of that key through the other server must still be honoured: the notice
// retires B's copy of the key, and the next C_SignInit checks the new one.
TEST_F(PgCoherence, AKeptOperationFollowsAKeyChangedThroughTheOther) {
  CK_SESSION_HANDLE ha = a_->session(), hb = b_->session();
  AttrMap t;
  t.set_bool(CKA_TOKEN, true);
  t.set_bool(CKA_SIGN, true);
  t.set_bool(CKA_VERIFY, true);
  t.set_ulong(CKA_VALUE_LEN, 32);
  t.set(CKA_LABEL, as_bytes("kept"));
  CK_MECHANISM gen{CKM_GENERIC_SECRET_KEY_GEN, nullptr, 0};
  auto ka = a_->app->generate_key(ha, gen, t);
  ASSERT_TRUE(ka.ok()) << ka.error().message;
  auto found = b_->find_label(hb, "kept");
  ASSERT_TRUE(found.ok() && found->size() == 1);
  const CK_OBJECT_HANDLE kb = (*found)[0];
  CK_MECHANISM hmac{CKM_SHA256_HMAC, nullptr, 0};
  auto mac = [&]() -> CK_RV {
    Status st = b_->app->sign_init(hb, hmac, kb);
    if (!st.ok()) return st.rv();
    uint8_t tag[32];
    CK_ULONG len = sizeof tag;
    st = b_->app->sign(hb, as_bytes("message"), OutBuf{tag, &len});
    return st.ok() ? CKR_OK : st.rv();
  };
  for (int i = 0; i < 3; ++i) ASSERT_EQ(mac(), CKR_OK);  // B's session now keeps an HMAC on the key
  AttrMap off;
  off.set_bool(CKA_SIGN, false);
  ASSERT_TRUE(a_->app->set_attributes(ha, *ka, off).ok());
  EXPECT_GE(MsUntil(mac, CKR_KEY_FUNCTION_NOT_PERMITTED, milliseconds(2000)), 0)
      << "B kept signing with a key whose CKA_SIGN A turned off";
  AttrMap on;
  on.set_bool(CKA_SIGN, true);
  ASSERT_TRUE(a_->app->set_attributes(ha, *ka, on).ok());
  EXPECT_GE(MsUntil(mac, CKR_OK, milliseconds(2000)), 0);
  ASSERT_TRUE(a_->app->destroy_object(ha, *ka).ok());
  EXPECT_GE(MsUntil(mac, CKR_KEY_HANDLE_INVALID, milliseconds(2000)), 0)
      << "B kept signing with a key A destroyed";
}

TEST_F(PgCoherence, PinChangedThroughOneHoldsOnTheOther) {
  CK_SESSION_HANDLE hb = b_->session();  // B logged in with the old PIN: its key is cached
  ASSERT_TRUE(b_->app->logout(hb).ok());
  CK_SESSION_HANDLE ha = a_->session();
  ASSERT_TRUE(a_->app->set_pin(ha, kUserPin, "new-pin-5678").ok());
  EXPECT_EQ(b_->app->login(hb, CKU_USER, kUserPin).rv(), CKR_PIN_INCORRECT);
  EXPECT_TRUE(b_->app->login(hb, CKU_USER, "new-pin-5678").ok());
}

TEST_F(PgCoherence, WrongPinsThroughBothCountAgainstOneLockout) {
  CK_SESSION_HANDLE ha = a_->session(nullptr), hb = b_->session(nullptr);
  for (uint32_t i = 0; i < kMaxFailures; ++i) {
    Server& s = i % 2 ? *b_ : *a_;
    EXPECT_EQ(s.app->login(i % 2 ? hb : ha, CKU_USER, "wrong-pin-0000").rv(), CKR_PIN_INCORRECT) << "attempt " << i;
  }
  EXPECT_EQ(a_->app->login(ha, CKU_USER, "wrong-pin-0000").rv(), CKR_PIN_LOCKED);
  EXPECT_EQ(b_->app->login(hb, CKU_USER, kUserPin).rv(), CKR_PIN_LOCKED);
  EXPECT_EQ(a_->app->login(ha, CKU_USER, kUserPin).rv(), CKR_PIN_LOCKED);
  auto info = b_->app->token_info(b_->slot);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->flags & CKF_USER_PIN_LOCKED);
}

// GET /readyz of an in-process REST API on the core (the handler ferrohsm-server routes).
CK_RV Readyz(server::rest::Api& api, std::string* message = nullptr) {
  for (const server::rest::Route& r : api.routes())
    if (r.method == "GET" && r.path == "/readyz") {
      auto reply = r.handler(server::rest::Request{});
      if (!reply.ok() && message != nullptr) *message = reply.error().message;
      return reply.ok() ? (reply->status == 200 ? CKR_OK : CKR_GENERAL_ERROR) : reply.rv();
    }
  return CKR_FUNCTION_NOT_SUPPORTED;
}

TEST_F(PgCoherence, DatabaseLostGivesDeviceErrorThenRecoversUnderLoad) {
  // Both servers log in to PostgreSQL with a password (from a file), which no message may show.
  constexpr const char* kDbPassword = "outage-horse-battery";
  ASSERT_EQ(store::pgtest::server().sql("DROP ROLE IF EXISTS pw_user"), "");
  ASSERT_EQ(store::pgtest::server().sql(std::string("CREATE ROLE pw_user LOGIN SUPERUSER PASSWORD '") + kDbPassword +
                                        "'"),
            "");
  const std::string pw_file = store::pgtest::server().dir() + "/../fh-pg-coh-pw-" + std::to_string(::getpid());
  std::ofstream(pw_file, std::ios::trunc) << kDbPassword << "\n";
  ASSERT_EQ(::chmod(pw_file.c_str(), 0600), 0);
  settings_.url += " user=pw_user";
  settings_.password_file = pw_file;
  a_.reset();
  b_.reset();
  OpenBoth();
  server::rest::Api api(b_->core, std::chrono::seconds(60));
  EXPECT_EQ(Readyz(api), CKR_OK);

  CK_SESSION_HANDLE ha = a_->session(), hb = b_->session();
  auto kp = a_->ec_key(ha, "load");
  ASSERT_TRUE(kp.ok());
  auto f = b_->find_label(hb, "load");
  ASSERT_TRUE(f.ok() && f->size() == 2);
  const CK_OBJECT_HANDLE priv_b = std::max((*f)[0], (*f)[1]);
  ASSERT_TRUE(b_->sign(hb, priv_b).ok());

  // A bounded load on B (its own sessions): finds and signs, every answer counted.
  std::atomic<bool> stop{false};
  std::atomic<int> ok[2] = {0, 0}, device_error[2] = {0, 0}, other{0};  // [0] finds, [1] signs
  std::atomic<CK_RV> other_rv{CKR_OK};
  std::vector<std::thread> load;
  for (int t = 0; t < 2; ++t)
    load.emplace_back([&, t] {
      CK_SESSION_HANDLE h = b_->session();
      for (int n = 0; n < 200'000 && !stop.load(); ++n) {
        CK_RV rv = CKR_OK;
        if (t == 0) {
          auto r = b_->find_label(h, "load");
          rv = r.ok() ? CKR_OK : r.rv();
        } else {
          Status st = b_->sign(h, priv_b);
          rv = st.ok() ? CKR_OK : st.rv();
        }
        if (rv == CKR_OK) ++ok[t];
        else if (rv == CKR_DEVICE_ERROR) ++device_error[t];
        else other_rv = rv, ++other;
        std::this_thread::sleep_for(milliseconds(2));
      }
    });
  std::this_thread::sleep_for(milliseconds(200));
  ASSERT_EQ(store::pgtest::server().stop_server(), "");
  const auto down = Clock::now();

  // A store call answers CKR_DEVICE_ERROR, with a message that says why.
  std::string message;
  const double ms = MsUntil(
      [&] {
        auto r = b_->find_label(hb, "load");
        if (!r.ok()) message = r.error().message;
        return r.ok() ? CKR_OK : r.rv();
      },
      CKR_DEVICE_ERROR, milliseconds(10'000));
  EXPECT_GE(ms, 0) << "finds kept answering with PostgreSQL down";
  EXPECT_NE(message.find("PostgreSQL"), std::string::npos) << message;
  EXPECT_EQ(message.find("horse"), std::string::npos) << message;
  auto made = a_->ec_key(ha, "while-down");
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.rv(), CKR_DEVICE_ERROR);
  EXPECT_EQ(made.error().message.find("horse"), std::string::npos) << made.error().message;
  std::string ready_message;
  EXPECT_EQ(Readyz(api, &ready_message), CKR_DEVICE_ERROR) << "/readyz said ready with PostgreSQL down";
  EXPECT_EQ(ready_message.find("horse"), std::string::npos) << ready_message;
  std::this_thread::sleep_for(milliseconds(300));

  ASSERT_EQ(store::pgtest::server().start_server(), "");
  const double outage_s = std::chrono::duration<double>(Clock::now() - down).count();
  // Back by itself: the pools reconnect at the next call, the listeners within their back-off.
  const double back_ms = MsUntil(
      [&] {
        auto r = b_->find_label(hb, "load");
        return r.ok() ? CKR_OK : r.rv();
      },
      CKR_OK, milliseconds(15'000));
  EXPECT_GE(back_ms, 0) << "B's finds did not recover";
  EXPECT_EQ(Readyz(api), CKR_OK) << "/readyz did not recover";
  auto again = a_->ec_key(ha, "after");
  ASSERT_TRUE(again.ok()) << again.error().message;
  stop = true;
  for (auto& t : load) t.join();
  std::printf("outage %.2f s; load answers: finds %d CKR_OK, %d CKR_DEVICE_ERROR; signs %d CKR_OK, %d "
              "CKR_DEVICE_ERROR; %d other; finds back %.0f ms after the restart\n",
              outage_s, ok[0].load(), device_error[0].load(), ok[1].load(), device_error[1].load(), other.load(),
              back_ms);
  EXPECT_EQ(other.load(), 0) << "an answer other than CKR_OK or CKR_DEVICE_ERROR: " << other_rv.load();
  EXPECT_GT(device_error[0].load(), 0) << "no find saw the outage";
  EXPECT_GT(device_error[1].load(), 0) << "signs with a cached key went on while nothing was heard";
  EXPECT_GT(ok[0].load(), 0);

  // Coherence is back too, once the listeners are (within their back-off): a destroy
  // through A reaches B's cached handle.
  for (Server* s : {a_.get(), b_.get()}) {
    auto* pg = dynamic_cast<store::PgStore*>(&s->core->store());
    ASSERT_NE(pg, nullptr);
    const auto end = Clock::now() + milliseconds(10'000);
    while (!pg->listening() && Clock::now() < end) std::this_thread::sleep_for(milliseconds(10));
    ASSERT_TRUE(pg->listening()) << "a listener did not reconnect";
  }
  ASSERT_EQ(b_->label_of(hb, priv_b), CKR_OK);
  ASSERT_TRUE(a_->app->destroy_object(ha, kp->second).ok());
  const double invalid_ms =
      MsUntil([&] { return b_->label_of(hb, priv_b); }, CKR_OBJECT_HANDLE_INVALID, milliseconds(2000));
  EXPECT_GE(invalid_ms, 0);
  EXPECT_LT(invalid_ms, 100.0);
  ::unlink(pw_file.c_str());
}

TEST_F(PgCoherence, ReadOnlyDatabaseWriteProtectsTheToken) {
  // A database of its own: default_transaction_read_only is per database.
  const std::string db = "fh_coherence_ro";
  ASSERT_EQ(store::pgtest::server().sql("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)"), "");
  ASSERT_EQ(store::pgtest::server().sql("CREATE DATABASE " + db), "");
  settings_.url = store::pgtest::server().conninfo(db);
  a_.reset();
  b_.reset();
  OpenBoth();
  CK_SESSION_HANDLE ha = a_->session();
  ASSERT_TRUE(a_->ec_key(ha, "before").ok());
  ASSERT_EQ(store::pgtest::server().sql("ALTER DATABASE " + db + " SET default_transaction_read_only = on"), "");
  // Sessions that began before keep their setting: cut them, as a failover to a standby would.
  auto cut = [&] {
    return store::pgtest::server().sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                                       db + "' AND pid <> pg_backend_pid()");
  };
  ASSERT_EQ(cut(), "");
  // A's open read-write session: the next write is refused (after at most one
  // CKR_DEVICE_ERROR for the connection that was cut).
  CK_RV rv = CKR_DEVICE_ERROR;
  for (int i = 0; i < 5 && rv == CKR_DEVICE_ERROR; ++i) rv = a_->ec_key(ha, "refused").rv();
  EXPECT_EQ(rv, CKR_TOKEN_WRITE_PROTECTED);
  auto info = a_->app->token_info(a_->slot);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(info->flags & CKF_WRITE_PROTECTED);
  // A new server on it: write-protected from the start; read-only sessions and logins work.
  auto c = Server::open(settings_);
  ASSERT_TRUE(c);
  c->slot = a_->slot;
  info = c->app->token_info(c->slot);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(info->flags & CKF_WRITE_PROTECTED);
  EXPECT_EQ(c->app->open_session(c->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION).rv(), CKR_TOKEN_WRITE_PROTECTED);
  CK_SESSION_HANDLE hc = c->session(kUserPin, 0);
  auto found = c->find_label(hc, "before");
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->size(), 2u);
  EXPECT_TRUE(c->sign(hc, std::max((*found)[0], (*found)[1])).ok());
  c.reset();
  a_.reset();
  b_.reset();
  EXPECT_EQ(store::pgtest::server().sql("DROP DATABASE " + db + " WITH (FORCE)"), "");
}

}  // namespace
}  // namespace ferrohsm
