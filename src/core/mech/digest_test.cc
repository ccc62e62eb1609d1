#include "core/mech/test_util.h"

namespace ferrohsm::mech::test {
namespace {

struct DigestCase {
  CK_MECHANISM_TYPE type;
  const char* abc;  // FIPS 180-4 example digest of "abc"
};

const DigestCase kDigestCases[] = {
    {CKM_SHA_1, "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {CKM_SHA224, "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"},
    {CKM_SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {CKM_SHA384,
     "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
    {CKM_SHA512,
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce"
     "80e2a9ac94fa54ca49f"},
};

TEST(MechDigest, FipsAbcOneShotAndMultiPart) {
  for (const DigestCase& c : kDigestCases) {
    SCOPED_TRACE(c.abc);
    auto op = entry(c.type).digest(mech(c.type));
    ASSERT_TRUE(op.ok());
    Bytes out((*op)->digest_size());
    auto n = (*op)->digest(text("abc"), out);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, out.size());
    EXPECT_EQ(to_hex(out), c.abc);

    auto op2 = entry(c.type).digest(mech(c.type));
    ASSERT_TRUE(op2.ok());
    ASSERT_TRUE((*op2)->update(text("a")).ok());
    ASSERT_TRUE((*op2)->update(text("")).ok());
    ASSERT_TRUE((*op2)->update(text("bc")).ok());
    Bytes out2((*op2)->digest_size());
    ASSERT_TRUE((*op2)->final(out2).ok());
    EXPECT_EQ(out2, out);
  }
}

TEST(MechDigest, InfoAndParameterErrors) {
  for (const DigestCase& c : kDigestCases) {
    EXPECT_EQ(entry(c.type).info.flags, CKF_DIGEST);
    uint8_t junk = 0;
    EXPECT_EQ(entry(c.type).digest(mech(c.type, junk)).rv(), CKR_MECHANISM_PARAM_INVALID);
  }
}

TEST(MechDigest, ShortOutputIsRejected) {
  auto op = entry(CKM_SHA256).digest(mech(CKM_SHA256));
  ASSERT_TRUE(op.ok());
  Bytes out(31);
  EXPECT_EQ((*op)->digest(text("abc"), out).rv(), CKR_BUFFER_TOO_SMALL);
}

}  // namespace
}  // namespace ferrohsm::mech::test
