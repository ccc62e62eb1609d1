// A token written before object MACs existed (version-1 wraps, objects without a
// MAC): the first login of a role gives every object its MAC and re-wraps that role's
// token key as version 2; from then on that role's logins refuse an object whose MAC
// was stripped. (The store's schema upgrade itself is tested in sqlite_store_test.)
#include "core/object_mac.h"
#include "core/seal.h"
#include "core/token.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstring>
#include <filesystem>

namespace ferrohsm {
namespace {

constexpr char kSoPin[] = "so-pin-1234";
constexpr char kUserPin[] = "user-pin-1234";
constexpr char kSerial[] = "00112233aabbccdd";

store::StoredAttr Plain(CK_ATTRIBUTE_TYPE t, ByteView v) { return store::StoredAttr{t, Bytes(v.begin(), v.end()), false}; }
store::StoredAttr Ulong(CK_ATTRIBUTE_TYPE t, CK_ULONG v) {
  Bytes b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return store::StoredAttr{t, b, false};
}
store::StoredAttr Flag(CK_ATTRIBUTE_TYPE t, bool v) { return store::StoredAttr{t, Bytes{uint8_t(v ? 1 : 0)}, false}; }

class LegacyTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("fh-legacy-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    path_ = (dir_ / "s.db").string();
    auto s = store::SqliteStore::open(path_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    cfg_.kdf_iterations = 1000;
    cfg_.dev_allow_weak_kdf = true;
    auto key = random_bytes(kTokenKeyBytes);
    ASSERT_TRUE(key.ok());
    token_key_ = *key;
    store::TokenRow row;
    row.slot_id = *store_->next_slot_id();
    row.label = "legacy";
    row.serial = kSerial;
    row.so_wrap = Wrap(kSoPin, true, row.so_kdf);
    row.user_wrap = Wrap(kUserPin, false, row.user_kdf);
    ASSERT_TRUE(store_->create_token(row).ok());
    row_ = row;
    // A sealed, never-extractable secret key as version 1 stored it: no MAC.
    store::ObjectMeta m;
    m.token_id = row.id;
    m.cls = CKO_SECRET_KEY;
    m.key_type = CKK_AES;
    m.label = {'k'};
    m.is_private = true;
    auto id = store_->insert_object(m, [&](int64_t oid) -> Result<store::SealedObject> {
      store::SealedObject o;
      o.attrs = {Ulong(CKA_CLASS, CKO_SECRET_KEY), Ulong(CKA_KEY_TYPE, CKK_AES), Flag(CKA_TOKEN, true),
                 Flag(CKA_PRIVATE, true), Flag(CKA_SENSITIVE, true), Flag(CKA_EXTRACTABLE, false),
                 Plain(CKA_LABEL, Bytes{'k'})};
      Bytes value(32, 0x42);
      FH_ASSIGN_OR_RETURN(Bytes sealed, seal(token_key_, value, attribute_aad(oid, CKA_VALUE)));
      o.attrs.push_back(store::StoredAttr{CKA_VALUE, sealed, true});
      return o;
    });
    ASSERT_TRUE(id.ok()) << id.error().message;
    object_id_ = *id;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Bytes Wrap(const char* pin, bool so, std::string& kdf) {
    KdfParams p = KdfParams::fresh(1000);
    kdf = p.encode();
    auto kek = derive_pin_key(pin, p);
    auto wrap = seal(*kek, token_key_, token_key_aad(kSerial, so, 1));
    EXPECT_TRUE(wrap.ok());
    return *wrap;
  }
  // Whether `role`'s stored wrap opens as version `version`.
  bool WrapIsVersion(bool so, int version) {
    auto row = store_->token(row_.id);
    auto p = KdfParams::parse(so ? row->so_kdf : row->user_kdf, KdfBounds{1, kMaxKdfIterations});
    auto kek = derive_pin_key(so ? kSoPin : kUserPin, *p);
    return unseal(*kek, so ? row->so_wrap : row->user_wrap, token_key_aad(kSerial, so, version)).ok();
  }
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  // The key's CKA_VALUE through a fresh Token (no cache) logged in as the user.
  Result<ObjectPtr> KeyAfterUserLogin() {
    Token t(*store_, cfg_, *store_->token(row_.id));
    FH_TRY(t.login(Role::User, kUserPin));
    AttrMap tmpl;
    tmpl.set(CKA_LABEL, Bytes{'k'});
    FH_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> found, t.find(tmpl));
    if (found.size() != 1) return make_error(CKR_GENERAL_ERROR, "not found");
    return t.object(found[0]);
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<store::SqliteStore> store_;
  Config cfg_;
  SecureBytes token_key_;
  store::TokenRow row_;
  int64_t object_id_ = 0;
};

TEST_F(LegacyTokenTest, FirstLoginMacsTheObjectsAndUpgradesThatRolesWrap) {
  EXPECT_TRUE(store_->load_object(object_id_)->mac.empty());
  auto key = KeyAfterUserLogin();
  ASSERT_TRUE(key.ok()) << key.error().message;
  const SecureBytes* v = (*key)->attrs().get(CKA_VALUE);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(*v, SecureBytes(32, 0x42));
  auto row = store_->load_object(object_id_);
  auto mac_key = derive_object_mac_key(token_key_);
  EXPECT_TRUE(object_mac_matches(*mac_key, kSerial, *row)) << "MAC'd at the login";
  EXPECT_TRUE(WrapIsVersion(false, 2)) << "the user's wrap is upgraded";
  EXPECT_TRUE(WrapIsVersion(true, 1)) << "the SO's waits for the SO's own login";
  // Logging in again (now version 2) still works.
  EXPECT_TRUE(KeyAfterUserLogin().ok());
}

TEST_F(LegacyTokenTest, AfterTheUpgradeAStrippedMacIsRefused) {
  ASSERT_TRUE(KeyAfterUserLogin().ok());
  Sql("UPDATE objects SET mac = NULL WHERE id = " + std::to_string(object_id_) +
      "; UPDATE attributes SET value = x'01' WHERE object_id = " + std::to_string(object_id_) +
      " AND type = " + std::to_string(CKA_EXTRACTABLE));
  auto key = KeyAfterUserLogin();
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.rv(), CKR_DEVICE_ERROR);
}

TEST_F(LegacyTokenTest, SetPinOverALegacyWrapMacsTheObjectsFirst) {
  Token t(*store_, cfg_, *store_->token(row_.id));
  ASSERT_TRUE(t.set_pin(Role::User, kUserPin, "user-pin-5678").ok());
  auto row = store_->load_object(object_id_);
  EXPECT_TRUE(object_mac_matches(*derive_object_mac_key(token_key_), kSerial, *row));
  Token again(*store_, cfg_, *store_->token(row_.id));
  EXPECT_TRUE(again.login(Role::User, "user-pin-5678").ok());
}

}  // namespace
}  // namespace ferrohsm
