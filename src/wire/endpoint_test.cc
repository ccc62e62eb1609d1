#include "wire/endpoint.h"

#include <gtest/gtest.h>

namespace ferrohsm::wire {
namespace {

TEST(Endpoint, Unix) {
  auto e = parse_endpoint("unix:/run/ferrohsm/ferrohsm.sock");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_TRUE(e->is_unix());
  EXPECT_EQ(e->path, "/run/ferrohsm/ferrohsm.sock");
  EXPECT_EQ(e->text, "unix:/run/ferrohsm/ferrohsm.sock");
}

TEST(Endpoint, TcpNameAndIpv4AndIpv6) {
  auto a = parse_endpoint("tcp:localhost:5696");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->is_tcp());
  EXPECT_EQ(a->host, "localhost");
  EXPECT_EQ(a->port, 5696);
  auto b = parse_endpoint("tcp:127.0.0.1:1");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "127.0.0.1");
  EXPECT_EQ(b->port, 1);
  auto c = parse_endpoint("tcp:[::1]:65535");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 65535);
}

TEST(Endpoint, RefusesWhatIsNotAnEndpoint) {
  for (const char* s : {"", "unix:", "udp:1.2.3.4:5", "tcp:host", "tcp::5696", "tcp:host:", "tcp:host:65536",
                        "tcp:host:12x", "tcp:::1:5696", "tcp:[::1]5696", "tcp:[::1]", "/run/x.sock"}) {
    auto e = parse_endpoint(s);
    EXPECT_FALSE(e.ok()) << s;
    if (!e.ok()) {
      EXPECT_EQ(e.error().rv, CKR_ARGUMENTS_BAD);
    }
  }
  std::string long_path = "unix:/" + std::string(200, 'a');
  EXPECT_FALSE(parse_endpoint(long_path).ok());
}

}  // namespace
}  // namespace ferrohsm::wire
