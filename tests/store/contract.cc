#include "contract.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

namespace ferrohsm::store::contract {
namespace {

Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }

Result<SealedObject> Sealed(const std::string& label, int64_t id) {
  SealedObject o;
  o.attrs.push_back({CKA_LABEL, B(label), false});
  o.attrs.push_back({CKA_VALUE, B("sealed-for-" + std::to_string(id)), true});
  o.mac = B("mac-" + std::to_string(id));
  return o;
}

}  // namespace

void ObjectStoreContract::SetUp() {
  std::string templ = std::filesystem::temp_directory_path().string() + "/fh-contract-XXXXXX";
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  dir_ = templ;
  store_ = Open();
  ASSERT_NE(store_, nullptr);
}

void ObjectStoreContract::TearDown() {
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::shared_ptr<ObjectStore> ObjectStoreContract::Open() {
  auto s = GetParam().open(dir_);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.ok() ? *s : nullptr;
}

int64_t ObjectStoreContract::MakeToken(const std::string& label) {
  TokenRow r;
  r.slot_id = *store_->next_slot_id();
  r.label = label;
  r.serial = "serial-" + label;
  r.so_wrap = B("so-wrap");
  r.so_kdf = "pbkdf2-sha256:1000:00";
  auto id = store_->create_token(r);
  EXPECT_TRUE(id.ok()) << id.error().message;
  return id.ok() ? *id : 0;
}

int64_t ObjectStoreContract::MakeObject(int64_t token, CK_OBJECT_CLASS cls, const std::string& label, bool is_private) {
  ObjectMeta m;
  m.token_id = token;
  m.cls = cls;
  m.label = B(label);
  m.is_private = is_private;
  auto id = store_->insert_object(m, [&](int64_t oid) { return Sealed(label, oid); });
  EXPECT_TRUE(id.ok()) << id.error().message;
  return id.ok() ? *id : 0;
}

TEST_P(ObjectStoreContract, ATokenKeepsWhatWasWrittenAndTheFreeSlotCannotBeTakenTwice) {
  const CK_SLOT_ID free = *store_->next_slot_id();
  TokenRow r;
  r.slot_id = free;
  r.label = "alpha";
  r.serial = "0011223344556677";
  r.so_wrap = B("so");
  r.so_kdf = "kdf-so";
  auto id = store_->create_token(r);
  ASSERT_TRUE(id.ok());
  auto back = store_->token(*id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->slot_id, free);
  EXPECT_EQ(back->label, "alpha");
  EXPECT_EQ(back->serial, "0011223344556677");
  EXPECT_EQ(back->so_wrap, B("so"));
  EXPECT_EQ(back->so_kdf, "kdf-so");
  EXPECT_TRUE(back->user_wrap.empty());
  // Another writer that read the same free slot id is refused.
  TokenRow again = r;
  again.serial = "8899aabbccddeeff";
  EXPECT_EQ(store_->create_token(again).rv(), CKR_SLOT_ID_INVALID);
  EXPECT_NE(*store_->next_slot_id(), free);
}

TEST_P(ObjectStoreContract, UpdateTokenReplacesWrapsAndCanDropEveryObject) {
  const int64_t t = MakeToken("t");
  MakeObject(t, CKO_DATA, "d1");
  MakeObject(t, CKO_DATA, "d2");
  TokenRow row = *store_->token(t);
  row.label = "renamed";
  row.user_wrap = B("user");
  row.user_kdf = "kdf-user";
  ASSERT_TRUE(store_->update_token(row).ok());
  EXPECT_EQ(store_->token(t)->label, "renamed");
  EXPECT_EQ(store_->token(t)->user_wrap, B("user"));
  EXPECT_EQ(*store_->count_objects(t), 2);
  ASSERT_TRUE(store_->update_token(row, TokenUpdate{.drop_objects = true}).ok());
  EXPECT_EQ(*store_->count_objects(t), 0);
}

TEST_P(ObjectStoreContract, PinAttemptsFromManyHandlesNeverExceedTheLimit) {
  const int64_t t = MakeToken("pins");
  constexpr uint32_t kMax = 10;
  std::vector<std::shared_ptr<ObjectStore>> handles;
  for (int i = 0; i < 4; ++i) handles.push_back(i == 0 ? store_ : Open());
  std::atomic<int> granted{0}, locked{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      for (int k = 0; k < 5; ++k) {  // 40 attempts in all against a limit of 10
        auto r = handles[i % handles.size()]->take_pin_attempt(t, false, kMax);
        if (r.ok()) ++granted;
        else if (r.rv() == CKR_PIN_LOCKED) ++locked;
        else ++other;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(granted.load(), static_cast<int>(kMax));
  EXPECT_EQ(locked.load(), 40 - static_cast<int>(kMax));
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(store_->token(t)->user_failures, kMax);
  EXPECT_EQ(store_->token(t)->so_failures, 0u) << "the SO's count is its own";
  ASSERT_TRUE(store_->clear_pin_failures(t, false).ok());
  EXPECT_EQ(*store_->take_pin_attempt(t, false, kMax), 1u);
}

TEST_P(ObjectStoreContract, KeyUsesFromManyHandlesNeverExceedTheMax) {
  constexpr uint64_t kMax = 13;
  std::vector<std::shared_ptr<ObjectStore>> handles;
  for (int i = 0; i < 4; ++i) handles.push_back(i == 0 ? store_ : Open());
  std::atomic<int> granted{0}, refused{0}, other{0};
  std::atomic<uint64_t> highest{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      for (int k = 0; k < 5; ++k) {  // 40 uses asked for against a maximum of 13
        auto r = handles[i % handles.size()]->take_key_use("serial/key-a", kMax);
        if (r.ok()) {
          ++granted;
          uint64_t seen = highest.load();
          while (*r > seen && !highest.compare_exchange_weak(seen, *r)) {
          }
        } else if (r.rv() == CKR_KEY_FUNCTION_NOT_PERMITTED) {
          ++refused;
        } else {
          ++other;
        }
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(granted.load(), static_cast<int>(kMax));
  EXPECT_EQ(refused.load(), 40 - static_cast<int>(kMax));
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(highest.load(), kMax) << "each granted use has its own number";
  EXPECT_EQ(*store_->key_uses("serial/key-a"), kMax);
  EXPECT_EQ(*Open()->key_uses("serial/key-a"), kMax) << "the count is durable and shared";
  // Another key counts on its own; a higher maximum (a reloaded policy) grants again.
  EXPECT_EQ(*store_->key_uses("serial/key-b"), 0u);
  EXPECT_EQ(*store_->take_key_use("serial/key-b", 1), 1u);
  EXPECT_EQ(store_->take_key_use("serial/key-b", 1).rv(), CKR_KEY_FUNCTION_NOT_PERMITTED);
  EXPECT_EQ(*store_->take_key_use("serial/key-a", kMax + 1), kMax + 1);
}

TEST_P(ObjectStoreContract, AWrapIsReplacedOnlyIfItIsStillTheOneRead) {
  const int64_t t = MakeToken("wraps");
  ASSERT_TRUE(store_->replace_wrap(t, true, B("so-wrap"), B("new")).ok());
  EXPECT_EQ(store_->token(t)->so_wrap, B("new"));
  (void)store_->replace_wrap(t, true, B("so-wrap"), B("stale"));  // the old one is gone: nothing happens
  EXPECT_EQ(store_->token(t)->so_wrap, B("new"));
}

TEST_P(ObjectStoreContract, AnObjectIsSealedWithItsOwnIdAndReadBackWhole) {
  const int64_t t = MakeToken("objs");
  const int64_t id = MakeObject(t, CKO_SECRET_KEY, "k");
  auto row = store_->load_object(id);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->meta.token_id, t);
  EXPECT_EQ(row->meta.cls, static_cast<CK_OBJECT_CLASS>(CKO_SECRET_KEY));
  EXPECT_EQ(row->meta.label, B("k"));
  EXPECT_EQ(row->mac, B("mac-" + std::to_string(id)));
  bool found_sealed = false;
  for (const StoredAttr& a : row->attrs)
    if (a.type == CKA_VALUE) {
      found_sealed = true;
      EXPECT_TRUE(a.sealed);
      EXPECT_EQ(a.value, B("sealed-for-" + std::to_string(id)));
    }
  EXPECT_TRUE(found_sealed);
  SealedObject changed{{{CKA_LABEL, B("k2"), false}}, B("mac2")};
  ObjectMeta meta = row->meta;
  meta.label = B("k2");
  ASSERT_TRUE(store_->update_object(id, meta, changed).ok());
  EXPECT_EQ(store_->load_object(id)->meta.label, B("k2"));
  EXPECT_EQ(store_->load_object(id)->attrs.size(), 1u);
  ASSERT_TRUE(store_->delete_object(id).ok());
  EXPECT_EQ(store_->load_object(id).rv(), CKR_OBJECT_HANDLE_INVALID);
}

TEST_P(ObjectStoreContract, AFailedSealerLeavesNoObject) {
  const int64_t t = MakeToken("fail");
  ObjectMeta m;
  m.token_id = t;
  m.cls = CKO_DATA;
  auto id = store_->insert_object(m, [](int64_t) -> Result<SealedObject> { return make_error(CKR_GENERAL_ERROR, "no"); });
  EXPECT_FALSE(id.ok());
  EXPECT_EQ(*store_->count_objects(t), 0);
}

// A generated key pair: both objects in one transaction, or neither.
TEST_P(ObjectStoreContract, ObjectsInsertedTogetherAreAllThereOrNoneIs) {
  const int64_t t = MakeToken("pair");
  ObjectMeta pub, priv;
  pub.token_id = priv.token_id = t;
  pub.cls = CKO_PUBLIC_KEY;
  priv.cls = CKO_PRIVATE_KEY;
  priv.is_private = true;
  const ObjectStore::Sealer ok = [](int64_t) { return Result<SealedObject>(SealedObject{{{CKA_LABEL, {'k'}, false}}, {}}); };
  const ObjectStore::Sealer fails = [](int64_t) -> Result<SealedObject> { return make_error(CKR_USER_NOT_LOGGED_IN, "no"); };
  const ObjectStore::NewObject bad[] = {{&pub, &ok}, {&priv, &fails}};
  EXPECT_EQ(store_->insert_objects(bad).rv(), CKR_USER_NOT_LOGGED_IN);
  EXPECT_EQ(*store_->count_objects(t), 0) << "the first half of a failed pair stayed";
  const int64_t before = *store_->last_change_seq();
  const ObjectStore::NewObject good[] = {{&pub, &ok}, {&priv, &ok}};
  auto ids = store_->insert_objects(good);
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_NE((*ids)[0], (*ids)[1]);
  EXPECT_EQ(store_->load_object((*ids)[0])->meta.cls, CKO_PUBLIC_KEY);
  EXPECT_EQ(store_->load_object((*ids)[1])->meta.cls, CKO_PRIVATE_KEY);
  EXPECT_EQ(*store_->count_objects(t), 2);
  auto changes = store_->changes_since(before);  // both are announced to other processes
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].object_id, (*ids)[0]);
  EXPECT_EQ((*changes)[1].object_id, (*ids)[1]);
}

TEST_P(ObjectStoreContract, FindMatchesEverySetFieldAndHidesPrivateObjectsUnlessAsked) {
  const int64_t t = MakeToken("find");
  const int64_t other = MakeToken("other");
  const int64_t pub = MakeObject(t, CKO_DATA, "x");
  const int64_t priv = MakeObject(t, CKO_DATA, "x", true);
  MakeObject(t, CKO_CERTIFICATE, "x");
  MakeObject(other, CKO_DATA, "x");
  ObjectQuery q;
  q.token_id = t;
  q.cls = CKO_DATA;
  q.label = B("x");
  auto found = store_->find(q);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].id, pub);
  q.include_private = true;
  found = store_->find(q);
  ASSERT_EQ(found->size(), 2u);
  bool saw_private = false;
  for (const FoundObject& f : *found) saw_private |= (f.id == priv && f.is_private);
  EXPECT_TRUE(saw_private);
}

TEST_P(ObjectStoreContract, AnotherHandleSeesEveryChangeThroughTheFeed) {
  auto second = Open();
  ASSERT_NE(second, nullptr);
  const int64_t v0 = *second->data_version();
  const int64_t seq0 = *second->last_change_seq();
  const int64_t t = MakeToken("feed");
  const int64_t id = MakeObject(t, CKO_DATA, "f");
  ASSERT_TRUE(store_->delete_object(id).ok());
  EXPECT_NE(*second->data_version(), v0) << "a commit by another handle moves data_version";
  auto changes = second->changes_since(seq0);
  ASSERT_TRUE(changes.ok());
  bool inserted = false, deleted = false, token = false;
  for (const Change& c : *changes) {
    inserted |= c.kind == ChangeKind::Insert && c.object_id == id;
    deleted |= c.kind == ChangeKind::Delete && c.object_id == id;
    token |= c.kind == ChangeKind::Token && c.token_id == t;
  }
  EXPECT_TRUE(inserted);
  EXPECT_TRUE(deleted);
  EXPECT_TRUE(token);
  EXPECT_LE(*second->oldest_change_seq(), seq0 + 1);
  EXPECT_EQ(second->token(t)->label, "feed");
}

TEST_P(ObjectStoreContract, ObjectsWithoutAMacGetOneOnce) {
  const int64_t t = MakeToken("macs");
  ObjectMeta m;
  m.token_id = t;
  m.cls = CKO_DATA;
  auto bare = store_->insert_object(m, [](int64_t) { return Result<SealedObject>(SealedObject{}); });
  ASSERT_TRUE(bare.ok());
  MakeObject(t, CKO_DATA, "has-a-mac");
  auto n = store_->mac_unmaced_objects(t, [](const ObjectRow& r) { return Result<Bytes>(B("late-" + std::to_string(r.id))); });
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(store_->load_object(*bare)->mac, B("late-" + std::to_string(*bare)));
  EXPECT_EQ(*store_->mac_unmaced_objects(t, [](const ObjectRow&) { return Result<Bytes>(B("again")); }), 0u);
}

TEST_P(ObjectStoreContract, DeletingATokenTakesItsObjectsAndItsSlotIsNotReused) {
  const int64_t t = MakeToken("gone");
  const CK_SLOT_ID slot = store_->token(t)->slot_id;
  const int64_t id = MakeObject(t, CKO_DATA, "o");
  ASSERT_TRUE(store_->delete_token(t).ok());
  EXPECT_EQ(store_->token(t).rv(), CKR_TOKEN_NOT_PRESENT);
  EXPECT_EQ(store_->load_object(id).rv(), CKR_OBJECT_HANDLE_INVALID);
  EXPECT_NE(*store_->next_slot_id(), slot);
}

}  // namespace ferrohsm::store::contract
