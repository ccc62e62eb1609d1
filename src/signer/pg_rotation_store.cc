#include "ferrohsm/signer/pg_rotation_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "base/secret.h"

namespace ferrohsm::signer {

// A named namespace, not an anonymous one: the unity build puts this file beside
// rotation_store.cc, whose helpers have the same names.
namespace pgstate {

using ::ferrohsm::PgConn;
using ::ferrohsm::PgParams;
using ::ferrohsm::PgResult;
using ::ferrohsm::PgStatement;

// Advisory lock keys: (class, object) pairs with a class of the signer's own ("FHSG"), so
// they never meet the object store's locks on a shared database. Object 0 of the next
// class is the migration lock; a scope's lock is its hashtext in kScopeLockClass (two
// scopes that share a hash only wait on each other).
constexpr int kScopeLockClass = 1179136839;
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(1179136840, 0)";

// Migration N takes the database from signer schema N-1 to N. Append only.
constexpr const char* kMigrations[] = {
    // 1: the SQLite table, in PostgreSQL's types; seq keeps creation order. The open
    // rotation's constraint is deferred: activate passes through "retiring + pending".
    R"sql(
CREATE TABLE signer_schema_version (version integer NOT NULL);
INSERT INTO signer_schema_version (version) VALUES (0);
CREATE TABLE signing_key (
  seq         bigint GENERATED ALWAYS AS IDENTITY,
  scope       text NOT NULL,
  key_id      text NOT NULL,
  provider    text NOT NULL,
  handle_id   text NOT NULL,
  public_key  bytea NOT NULL CHECK (octet_length(public_key) = 32),
  state       text NOT NULL CHECK (state IN ('pending', 'active', 'retiring', 'retired')),
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  PRIMARY KEY (scope, key_id));
CREATE UNIQUE INDEX signing_key_one_active ON signing_key (scope) WHERE state = 'active';
ALTER TABLE signing_key ADD CONSTRAINT signing_key_one_open_rotation
  EXCLUDE USING btree (scope WITH =) WHERE (state IN ('pending', 'retiring')) DEFERRABLE INITIALLY DEFERRED;
)sql",
};
constexpr int kVersion = static_cast<int>(std::size(kMigrations));

const PgStatement kHasSchema{"signer_has_schema",
                             "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                             "ON n.oid = c.relnamespace WHERE c.relname = 'signer_schema_version' "
                             "AND n.nspname = current_schema())"};
const PgStatement kReadVersion{"signer_read_version", "SELECT max(version) FROM signer_schema_version"};
const PgStatement kLoadAll{"signer_load_all",
                           "SELECT scope, key_id, provider, handle_id, public_key, state, created_at, updated_at "
                           "FROM signing_key ORDER BY scope, seq"};
const PgStatement kLockScope{"signer_lock_scope", "SELECT pg_advisory_xact_lock(" + std::to_string(kScopeLockClass) +
                                                      ", hashtext($1::text))"};
const PgStatement kScopeKeys{"signer_scope_keys", "SELECT key_id, state FROM signing_key WHERE scope = $1::text"};
const PgStatement kInsert{"signer_insert",
                          "INSERT INTO signing_key (scope, key_id, provider, handle_id, public_key, state, "
                          "created_at, updated_at) VALUES ($1::text, $2::text, $3::text, $4::text, $5::bytea, "
                          "$6::text, $7::bigint, $7::bigint)"};
const PgStatement kDemote{"signer_demote",
                          "UPDATE signing_key SET state = 'retiring', updated_at = $2::bigint "
                          "WHERE scope = $1::text AND state = 'active'"};
const PgStatement kPromote{"signer_promote",
                           "UPDATE signing_key SET state = 'active', updated_at = $3::bigint "
                           "WHERE scope = $1::text AND key_id = $2::text AND state = 'pending'"};
const PgStatement kRetire{"signer_retire",
                          "UPDATE signing_key SET state = 'retired', updated_at = $3::bigint "
                          "WHERE scope = $1::text AND key_id = $2::text AND state = 'retiring'"};
const PgStatement kNotify{"signer_notify", std::string("SELECT pg_notify('") + kStateChannel + "', $1::text)"};

// The one edge where base's PostgreSQL errors become the signer's: a lost or unreachable
// database is state_unavailable (503, try again), a constraint the state (409), the rest
// internal.
Error pg_error(const ::ferrohsm::Error& e, const PgConn* c, const std::string& what) {
  const std::string sqlstate = c ? c->last_sqlstate() : "";
  std::string msg = "signer state database: " + what + ": " + e.message;
  if (sqlstate.rfind("23", 0) == 0) return Error::state(msg);
  if (c == nullptr || c->lost() || sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0 ||
      sqlstate == "55P03")
    return Error::state_unavailable(msg);
  return Error::internal(msg);
}

Result<int> read_version(PgConn& c) {
  auto has = c.run(kHasSchema);
  if (!has) return pg_error(has.error(), &c, "read schema version");
  if (has->rows() != 1 || !has->boolean(0, 0)) return 0;
  auto v = c.run(kReadVersion);
  if (!v) return pg_error(v.error(), &c, "read schema version");
  return v->rows() == 1 ? static_cast<int>(v->int64(0, 0)) : 0;
}

Error refuse_newer(int found, const std::string& where) {
  return Error::invalid("the signer state database " + where + " has signer schema " + std::to_string(found) +
                        ", newer than this ferrohsm-signer's schema " + std::to_string(kVersion) +
                        "; run the newer ferrohsm-signer");
}

Status migrate(PgConn& c, const std::string& where) {
  auto version = read_version(c);
  if (!version) return version.error();
  if (*version > kVersion) return refuse_newer(*version, where);
  if (*version == kVersion) return {};
  auto fail = [&](const ::ferrohsm::Error& e) { return pg_error(e, &c, "apply schema"); };
  if (auto s = c.exec("BEGIN"); !s) return fail(s.error());
  Status body = [&]() -> Status {
    if (auto s = c.exec(kMigrationLock); !s) return fail(s.error());
    auto now = read_version(c);  // as of the lock: another replica may have done it
    if (!now) return now.error();
    if (*now > kVersion) return refuse_newer(*now, where);
    for (int v = *now + 1; v <= kVersion; ++v) {
      if (auto s = c.exec(kMigrations[v - 1]); !s) return fail(s.error());
      if (auto s = c.exec("UPDATE signer_schema_version SET version = " + std::to_string(v)); !s)
        return fail(s.error());
      spdlog::info("signer state {}: PostgreSQL schema {} applied", where, v);
    }
    return {};
  }();
  if (!body) {
    (void)c.exec("ROLLBACK");
    return body;
  }
  if (auto s = c.exec("COMMIT"); !s) return fail(s.error());
  return {};
}

std::string pg_state_name(KeyState state) { return std::string(key_state_name(state)); }

}  // namespace pgstate

using namespace pgstate;

int pg_state_schema_version() { return kVersion; }

std::string state_key_message(std::string message) {
  if (message.rfind("store.", 0) == 0) message.replace(0, 6, "state.");
  return message;
}

Result<std::unique_ptr<PgRotationStore>> PgRotationStore::open(const PgStateSettings& settings) {
  auto target = ::ferrohsm::parse_pg_target(settings.url, settings.password_file);
  if (!target) return Error::invalid(state_key_message(target.error().message));
  std::unique_ptr<PgRotationStore> s(new PgRotationStore(std::move(*target)));
  PgRotationStore* self = s.get();
  s->pool_ = std::make_unique<::ferrohsm::PgPool>(
      [self]() -> ::ferrohsm::Result<std::unique_ptr<PgConn>> {
        PGconn* raw = nullptr;
        auto c = self->connect("ferrohsm-signer", &raw);
        if (!c) return ::ferrohsm::make_error(CKR_DEVICE_ERROR, c.error().message);
        return std::move(*c);
      },
      static_cast<size_t>(std::max(settings.pool_size, 1)), std::chrono::seconds(5));
  {
    auto lease = s->pool_->take();
    if (!lease) return Error::state_unavailable(lease.error().message);
    if (auto m = migrate(**lease, s->describe()); !m) return m.error();
  }
  spdlog::info("signer state: PostgreSQL {} (schema {})", s->describe(), kVersion);
  return s;
}

PgRotationStore::~PgRotationStore() = default;

Result<std::unique_ptr<PgConn>> PgRotationStore::connect(const char* application, PGconn** raw) {
  // Shorter timeouts than the object store's: a replica that cannot confirm its state
  // refuses to sign, so a vanished database must be noticed within seconds.
  PgConnectOptions options;
  options.application = application;
  options.connect_timeout_s = 5;
  options.keepalives_idle_s = 5;
  options.keepalives_interval_s = 2;
  options.keepalives_count = 2;
  options.tcp_user_timeout_ms = 5000;
  auto opened = ::ferrohsm::pg_connect(target_, options);
  if (!opened) {
    if (opened.error().rv != CKR_DEVICE_ERROR) return Error::invalid(state_key_message(opened.error().message));
    return Error::state_unavailable("signer state: " + opened.error().message);
  }
  PGconn* c = *opened;
  auto conn = std::make_unique<PgConn>(c, describe());
  // A transition waits this long for another replica's lock on its scope, then fails
  // (state_unavailable) instead of hanging the request.
  if (auto s = conn->exec("SET lock_timeout = 5000"); !s) return pg_error(s.error(), conn.get(), "configure");
  *raw = c;
  return conn;
}

Result<PgListenConn> PgRotationStore::connect_listener() {
  PgListenConn out;
  auto c = connect("ferrohsm-signer-listener", &out.raw);
  if (!c) return c.error();
  out.conn = std::move(*c);
  return out;
}

Result<std::vector<SigningKey>> PgRotationStore::load_all(PgConn& c) {
  auto r = c.run(kLoadAll);
  if (!r) return pg_error(r.error(), &c, "load keys");
  std::vector<SigningKey> out;
  out.reserve(static_cast<size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) {
    auto scope = Scope::parse(r->text(i, 0));
    auto key_id = KeyId::parse(r->text(i, 1));
    auto state = parse_key_state(r->text(i, 5));
    Bytes public_key = r->bytes(i, 4);
    if (!scope || !key_id || !state || public_key.size() != 32)
      return Error::internal("signer state database holds a malformed signing_key row");
    SigningKey k{*scope, *key_id, r->text(i, 2), r->text(i, 3), {}, *state, r->int64(i, 6), r->int64(i, 7)};
    std::copy(public_key.begin(), public_key.end(), k.public_key.begin());
    out.push_back(std::move(k));
  }
  return out;
}

Result<std::vector<SigningKey>> PgRotationStore::load_all() {
  auto lease = pool_->take();
  if (!lease) return Error::state_unavailable("signer state database: " + lease.error().message);
  return load_all(**lease);
}

// BEGIN; the scope's lock; body(c); NOTIFY; COMMIT. ROLLBACK when anything fails.
template <typename F>
Status PgRotationStore::in_scope_transaction(const Scope& scope, const char* what, F&& body) {
  auto lease = pool_->take();
  if (!lease) return Error::state_unavailable("signer state database: " + lease.error().message);
  PgConn& c = **lease;
  if (auto s = c.exec("BEGIN"); !s) return pg_error(s.error(), &c, what);
  Status st = [&]() -> Status {
    if (auto r = c.run(kLockScope, PgParams().add(scope.str())); !r) return pg_error(r.error(), &c, what);
    FH_TRY(body(c));
    if (auto r = c.run(kNotify, PgParams().add(scope.str())); !r) return pg_error(r.error(), &c, what);
    return {};
  }();
  if (!st) {
    (void)c.exec("ROLLBACK");
    return st;
  }
  if (auto s = c.exec("COMMIT"); !s) return pg_error(s.error(), &c, what);
  return {};
}

Status PgRotationStore::insert(const SigningKey& key) {
  return in_scope_transaction(key.scope, "insert key", [&](PgConn& c) -> Status {
    auto rows = c.run(kScopeKeys, PgParams().add(key.scope.str()));
    if (!rows) return pg_error(rows.error(), &c, "insert key");
    for (int i = 0; i < rows->rows(); ++i) {
      const std::string id = rows->text(i, 0), state = rows->text(i, 1);
      if (id == key.key_id.str())
        return Error::state("key " + id + " already exists in scope " + key.scope.str());
      if (state == "pending" || state == "retiring")
        return Error{ErrorKind::kRotationInProgress, "scope " + key.scope.str() + " has an open rotation (key " + id +
                                                         " is " + state + "); activate or close it first"};
      if (state == "active" && key.state == KeyState::kActive)
        return Error::state("scope " + key.scope.str() +
                            " already has an active key; rotate it with rotation open/activate/close");
    }
    PgParams p;
    p.add(key.scope.str()).add(key.key_id.str()).add(key.provider).add(key.handle_id);
    p.add(ByteView(key.public_key)).add(pg_state_name(key.state)).add(static_cast<int64_t>(key.created_at));
    if (auto r = c.run(kInsert, p); !r) return pg_error(r.error(), &c, "insert key");
    return {};
  });
}

Status PgRotationStore::activate(const Scope& scope, const KeyId& key_id, std::int64_t now) {
  return in_scope_transaction(scope, "activate key", [&](PgConn& c) -> Status {
    if (auto r = c.run(kDemote, PgParams().add(scope.str()).add(static_cast<int64_t>(now))); !r)
      return pg_error(r.error(), &c, "activate key");
    auto promoted = c.run(kPromote, PgParams().add(scope.str()).add(key_id.str()).add(static_cast<int64_t>(now)));
    if (!promoted) return pg_error(promoted.error(), &c, "activate key");
    if (promoted->affected() != 1)
      return Error::state("key " + key_id.str() + " is not pending in scope " + scope.str());
    return {};
  });
}

Status PgRotationStore::retire(const Scope& scope, const KeyId& key_id, std::int64_t now) {
  return in_scope_transaction(scope, "retire key", [&](PgConn& c) -> Status {
    auto changed = c.run(kRetire, PgParams().add(scope.str()).add(key_id.str()).add(static_cast<int64_t>(now)));
    if (!changed) return pg_error(changed.error(), &c, "retire key");
    if (changed->affected() != 1)
      return Error::state("key " + key_id.str() + " is not retiring in scope " + scope.str());
    return {};
  });
}

}  // namespace ferrohsm::signer
