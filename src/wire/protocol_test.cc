#include "wire/protocol.h"

#include "wire/frame.h"

#include <gtest/gtest.h>

namespace ferrohsm::wire {
namespace {

TEST(Protocol, HelloCarriesMagicVersionsAndLimit) {
  Hello h = make_hello(12345);
  EXPECT_EQ(h.magic(), "ferrohsm");
  EXPECT_EQ(h.major(), kProtocolMajor);
  EXPECT_EQ(h.minor(), kProtocolMinor);
  EXPECT_EQ(h.max_message(), 12345u);
  EXPECT_TRUE(h.software().starts_with("ferrohsm "));
}

TEST(Protocol, ADifferentMajorIsRefusedWithASentence) {
  Hello h = make_hello(1);
  EXPECT_FALSE(version_refusal(h).has_value());
  h.set_minor(7);  // a newer minor of the same major still talks
  EXPECT_FALSE(version_refusal(h).has_value());
  h.set_major(2);
  h.set_minor(0);
  auto why = version_refusal(h);
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, "protocol 2.0 is not supported by this server (1.x)");
}

TEST(Protocol, ClientChecksTheReply) {
  HelloReply r;
  r.set_accepted(false);
  r.set_refusal("access denied");
  Status s = check_hello_reply(r, "unix:/x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().rv, CKR_DEVICE_ERROR);
  EXPECT_NE(s.error().message.find("access denied"), std::string::npos);
  r.set_accepted(true);
  r.set_major(kProtocolMajor + 1);
  EXPECT_FALSE(check_hello_reply(r, "unix:/x").ok());
  r.set_major(kProtocolMajor);
  EXPECT_TRUE(check_hello_reply(r, "unix:/x").ok());
}

TEST(Protocol, AppendFrameWritesLengthThenMessage) {
  Call c;
  c.set_id(7);
  c.set_function(42);
  c.add_args()->set_data(std::string(300, 'x'));
  std::string out = "prefix";
  size_t n = append_frame(c, out);
  ASSERT_EQ(out.size(), 6 + kFrameHeader + n);
  EXPECT_EQ(frame_length(reinterpret_cast<const uint8_t*>(out.data() + 6)), n);
  Call back;
  ASSERT_TRUE(back.ParseFromArray(out.data() + 6 + kFrameHeader, static_cast<int>(n)));
  EXPECT_EQ(back.id(), 7u);
  EXPECT_EQ(back.function(), 42u);
  EXPECT_EQ(back.args(0).data().size(), 300u);
}

}  // namespace
}  // namespace ferrohsm::wire
