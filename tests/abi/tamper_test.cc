// Someone who can write the database file but knows no PIN must not be able to weaken
// a key (issue 11, finding 3). Each test changes the SQLite file directly — flips
// CKA_SENSITIVE/CKA_EXTRACTABLE, changes a label, deletes, adds or swaps attribute
// rows, strips the integrity MAC — then logs in again: the changed object is
// unusable (CKR_DEVICE_ERROR for C_GetAttributeValue and C_SignInit) and its private
// value never comes out; untouched objects keep working.
#include <string>

#include "fixture/attributes.h"
#include "fixture/keys.h"
#include "fixture/module_fixture.h"
#include "fixture/store_sql.h"

namespace ferrohsm::abi {
namespace {

class TamperTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    // The victim: sensitive, never extractable, may sign. The bystander: extractable,
    // not sensitive, may not sign — the rows a swap would give the victim.
    KeyOptions victim{.token = true, .label = "victim"};
    ASSERT_CKR_OK(GenerateEc(f_, session_, "P-256", victim).rv);
    KeyOptions bystander{.token = true, .sensitive = false, .extractable = true, .sign = false,
                         .label = "bystander"};
    ASSERT_CKR_OK(GenerateEc(f_, session_, "P-256", bystander).rv);
    ASSERT_CKR_OK(CreateObject(f_, session_, DataObject("notes", true)).rv);
    victim_ = StoreId("victim", CKO_PRIVATE_KEY);
    bystander_ = StoreId("bystander", CKO_PRIVATE_KEY);
    ASSERT_GT(victim_, 0);
    ASSERT_GT(bystander_, 0);
  }

  // The store's row id of the object with this label and class (read while the module runs).
  long long StoreId(const std::string& label, CK_OBJECT_CLASS cls) {
    return QueryInt(store_->db_path(), "SELECT id FROM objects WHERE label = CAST('" + label +
                                           "' AS BLOB) AND class = " + std::to_string(cls));
  }

  // Finalises the module, runs `sql` on the database file, initialises again and logs in.
  void Tamper(const std::string& sql) {
    ASSERT_CKR_OK(f_->C_Finalize(nullptr));
    ForgetInitialized();
    ASSERT_EQ(RunSql(store_->db_path(), sql), "");
    ASSERT_CKR_OK(f_->C_Initialize(InitArgs()));
    MarkInitialized();
    session_ = OpenUser(slot_);
    ASSERT_NE(session_, CK_INVALID_HANDLE);
  }

  // The private key with this label (an indexed find: a changed object is still found).
  CK_OBJECT_HANDLE PrivateKey(const std::string& label) {
    auto found = Find(f_, session_, Template().Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Str(CKA_LABEL, label));
    return found.size() == 1 ? found[0] : CK_INVALID_HANDLE;
  }

  // The object must be refused, and its private value must never be returned.
  void ExpectRefused(CK_OBJECT_HANDLE key) {
    ASSERT_NE(key, CK_INVALID_HANDLE) << "the object should still be found (and then refused)";
    AttrValue value = GetAttr(f_, session_, key, CKA_VALUE);
    EXPECT_CKR(CKR_DEVICE_ERROR, value.rv) << "CKA_VALUE of a tampered key";
    EXPECT_TRUE(value.value.empty()) << "the private value came out";
    EXPECT_CKR(CKR_DEVICE_ERROR, GetAttr(f_, session_, key, CKA_LABEL).rv);
    CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
    EXPECT_CKR(CKR_DEVICE_ERROR, f_->C_SignInit(session_, &m, key));
  }

  // The object works as it was made: signs, keeps its value in.
  void ExpectIntactVictim(CK_OBJECT_HANDLE key) {
    ASSERT_NE(key, CK_INVALID_HANDLE);
    EXPECT_CKR(CKR_ATTRIBUTE_SENSITIVE, GetAttr(f_, session_, key, CKA_VALUE).rv);
    CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
    ASSERT_CKR_OK(f_->C_SignInit(session_, &m, key));
    Bytes digest(32, 0x5a), sig(64);
    CK_ULONG len = sig.size();
    EXPECT_CKR_OK(f_->C_Sign(session_, digest.data(), digest.size(), sig.data(), &len));
  }

  std::string Id(long long v) { return std::to_string(v); }

  long long victim_ = -1;
  long long bystander_ = -1;
};

TEST_F(TamperTest, UntouchedObjectsStayUsableAfterLoginAgain) {
  Tamper("SELECT 1");
  ExpectIntactVictim(PrivateKey("victim"));
  CK_OBJECT_HANDLE b = PrivateKey("bystander");
  ASSERT_NE(b, CK_INVALID_HANDLE);
  EXPECT_CKR_OK(GetAttr(f_, session_, b, CKA_VALUE).rv) << "the bystander is extractable by design";
}

TEST_F(TamperTest, FlippedSensitiveAndExtractableMakeTheKeyUnusable) {
  Tamper("UPDATE attributes SET value = x'00' WHERE object_id = " + Id(victim_) + " AND type = " +
         Id(CKA_SENSITIVE) + "; UPDATE attributes SET value = x'01' WHERE object_id = " + Id(victim_) +
         " AND type = " + Id(CKA_EXTRACTABLE) + ";");
  ExpectRefused(PrivateKey("victim"));
  EXPECT_CKR_OK(GetAttr(f_, session_, PrivateKey("bystander"), CKA_VALUE).rv) << "others are unaffected";
}

TEST_F(TamperTest, ChangedLabelMakesTheObjectUnusable) {
  Tamper("UPDATE attributes SET value = CAST('evil' AS BLOB) WHERE object_id = " + Id(victim_) +
         " AND type = " + Id(CKA_LABEL) + "; UPDATE objects SET label = CAST('evil' AS BLOB) WHERE id = " +
         Id(victim_) + ";");
  ExpectRefused(PrivateKey("evil"));
}

TEST_F(TamperTest, DeletedAttributeRowMakesTheObjectUnusable) {
  Tamper("DELETE FROM attributes WHERE object_id = " + Id(victim_) + " AND type = " + Id(CKA_EXTRACTABLE) + ";");
  ExpectRefused(PrivateKey("victim"));
}

TEST_F(TamperTest, AddedAttributeRowMakesTheObjectUnusable) {
  Tamper("INSERT INTO attributes(object_id, type, value, sealed) VALUES (" + Id(victim_) + ", " +
         Id(CKA_VENDOR_DEFINED + 0x1234) + ", x'01', 0);");
  ExpectRefused(PrivateKey("victim"));
}

TEST_F(TamperTest, SwappedAttributeRowsMakeBothObjectsUnusable) {
  const std::string types = "(" + Id(CKA_SENSITIVE) + ", " + Id(CKA_EXTRACTABLE) + ")";
  Tamper("UPDATE attributes SET object_id = -1 WHERE object_id = " + Id(victim_) + " AND type IN " + types +
         "; UPDATE attributes SET object_id = " + Id(victim_) + " WHERE object_id = " + Id(bystander_) +
         " AND type IN " + types + "; UPDATE attributes SET object_id = " + Id(bystander_) +
         " WHERE object_id = -1;");
  ExpectRefused(PrivateKey("victim"));
  ExpectRefused(PrivateKey("bystander"));
}

TEST_F(TamperTest, StrippedMacMakesAKeyUnusable) {
  // A key is never written without the token key, so it never lacks a MAC legitimately.
  Tamper("UPDATE objects SET mac = NULL WHERE id = " + Id(victim_) + "; UPDATE attributes SET value = x'00' "
         "WHERE object_id = " + Id(victim_) + " AND type = " + Id(CKA_SENSITIVE) + ";");
  ExpectRefused(PrivateKey("victim"));
}

TEST_F(TamperTest, ChangedPublicObjectIsRefusedOnceTheTokenKeyIsThere) {
  long long notes = StoreId("notes", CKO_DATA);
  ASSERT_GT(notes, 0);
  Tamper("UPDATE attributes SET value = CAST('forged' AS BLOB) WHERE object_id = " + Id(notes) +
         " AND type = " + Id(CKA_VALUE) + ";");
  auto found = Find(f_, session_, Template().Ulong(CKA_CLASS, CKO_DATA).Str(CKA_LABEL, "notes"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_CKR(CKR_DEVICE_ERROR, GetAttr(f_, session_, found[0], CKA_VALUE).rv);
}

TEST_F(TamperTest, PublicObjectWrittenWithoutLoginIsMacdAtTheNextLogin) {
  // A public R/W session has no token key: its object cannot carry a MAC yet. The
  // next login gives it one; a change after that is refused.
  ASSERT_CKR_OK(f_->C_Logout(session_));
  ASSERT_CKR_OK(CreateObject(f_, session_, DataObject("public-note", true)).rv);
  ASSERT_CKR_OK(Login(session_, CKU_USER, kUserPin));
  long long id = StoreId("public-note", CKO_DATA);
  ASSERT_GT(id, 0);
  Tamper("UPDATE attributes SET value = CAST('forged' AS BLOB) WHERE object_id = " + Id(id) +
         " AND type = " + Id(CKA_VALUE) + ";");
  auto found = Find(f_, session_, Template().Ulong(CKA_CLASS, CKO_DATA).Str(CKA_LABEL, "public-note"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_CKR(CKR_DEVICE_ERROR, GetAttr(f_, session_, found[0], CKA_VALUE).rv);
}

}  // namespace
}  // namespace ferrohsm::abi
