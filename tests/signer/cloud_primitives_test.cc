// The pieces the cloud adapters share: CRC32C, resource-name escaping, endpoints, the
// secret-free service messages, and retries with backoff inside the call's deadline.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "ferrohsm/signer/cloud/crc32c.h"
#include "ferrohsm/signer/cloud/http_client.h"
#include "ferrohsm/signer/cloud/names.h"
#include "ferrohsm/signer/cloud/retry.h"

namespace ferrohsm::signer::testing {
namespace {

using namespace std::chrono_literals;

TEST(Crc32c, PublishedCheckValues) {
  EXPECT_EQ(cloud::crc32c("123456789"), 0xE3069283u);  // the CRC catalogue's check value for CRC-32C
  EXPECT_EQ(cloud::crc32c(""), 0u);
  std::vector<std::uint8_t> zeros(32, 0), ones(32, 0xff);
  EXPECT_EQ(cloud::crc32c(zeros), 0x8A9136AAu);  // RFC 3720 B.4: 32 bytes of zeros
  EXPECT_EQ(cloud::crc32c(ones), 0x62A8AB43u);   // RFC 3720 B.4: 32 bytes of 0xff
}

TEST(CloudNames, EscapingIsOneToOneAndFitsTheAlphabets) {
  EXPECT_EQ(cloud::escape_name_part("payments"), "payments");
  EXPECT_EQ(cloud::escape_name_part("payments.eu"), "payments_2eeu");
  EXPECT_EQ(cloud::escape_name_part("a_b"), "a_5fb");
  EXPECT_NE(cloud::escape_name_part("a.b"), cloud::escape_name_part("a_b"));
  EXPECT_NE(cloud::escape_name_part("a_2eb"), cloud::escape_name_part("a.b"));
  for (char c : cloud::escape_name_part("k-1.x_y.z9"))
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') << c;
}

TEST(CloudHttp, EndpointsMustBeHttpsOutsideLoopback) {
  EXPECT_TRUE(cloud::check_endpoint("x", "https://kms.eu-west-1.amazonaws.com"));
  EXPECT_TRUE(cloud::check_endpoint("x", "http://127.0.0.1:4566"));
  EXPECT_TRUE(cloud::check_endpoint("x", "http://localhost:8080/"));
  EXPECT_TRUE(cloud::check_endpoint("x", "http://[::1]:8080"));
  auto plain = cloud::check_endpoint("the KMS endpoint", "http://kms.example.com");
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().message.find("plain http is allowed only to a loopback"), std::string::npos);
  EXPECT_FALSE(cloud::check_endpoint("x", "http://127.0.0.1.example.com"));
  EXPECT_FALSE(cloud::check_endpoint("x", "ftp://x"));
  EXPECT_EQ(cloud::url_authority("https://kms.x.amazonaws.com:443/a?b"), "kms.x.amazonaws.com");
  EXPECT_EQ(cloud::url_authority("http://127.0.0.1:9000/"), "127.0.0.1:9000");
}

TEST(CloudHttp, ServiceMessagesLoseSecretsAndControlCharacters) {
  std::vector<std::string> secrets = {"ya29.SECRET-TOKEN"};
  EXPECT_EQ(cloud::clean_message("bad token ya29.SECRET-TOKEN\nhere", secrets), "bad token [redacted] here");
  EXPECT_EQ(cloud::clean_message(std::string(400, 'x')).size(), 300u + std::string("…").size());
  EXPECT_EQ(cloud::form_encode(std::vector<std::pair<std::string, std::string>>{{"a b", "c&d=é"}}),
            "a%20b=c%26d%3D%C3%A9");
}

TEST(CloudHttp, UnreachableHostIsProviderUnavailable) {
  cloud::HttpClient http(CloudHttpSettings{});
  auto r = http.send({"GET", "http://127.0.0.1:1/", {}, ""}, 2000ms);  // nothing listens on port 1
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kProviderUnavailable);
  EXPECT_NE(r.error().message.find("127.0.0.1:1"), std::string::npos) << r.error().message;
}

cloud::RetryPolicy fast_policy(int attempts) {
  cloud::RetryPolicy p;
  p.max_attempts = attempts;
  p.attempt_timeout = 1000ms;
  p.backoff_base = 5ms;
  p.backoff_max = 20ms;
  return p;
}

TEST(CloudRetry, RetriesWhatIsRetryableThenGivesUpAsUnavailable) {
  int calls = 0;
  auto r = cloud::with_retries<int>(Context::background(), fast_policy(4), "op",
                                    [&](std::chrono::milliseconds) -> cloud::Attempt<int> {
                                      ++calls;
                                      return {Error::unavailable("throttled"), true};
                                    });
  ASSERT_FALSE(r);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(r.error().kind, ErrorKind::kProviderUnavailable);
  EXPECT_NE(r.error().message.find("gave up after 4 attempts"), std::string::npos) << r.error().message;

  calls = 0;
  auto recovered = cloud::with_retries<int>(Context::background(), fast_policy(4), "op",
                                            [&](std::chrono::milliseconds) -> cloud::Attempt<int> {
                                              if (++calls < 3) return {Error::unavailable("503"), true};
                                              return {42, false};
                                            });
  ASSERT_TRUE(recovered);
  EXPECT_EQ(*recovered, 42);
  EXPECT_EQ(calls, 3);

  calls = 0;
  auto final_error = cloud::with_retries<int>(Context::background(), fast_policy(4), "op",
                                              [&](std::chrono::milliseconds) -> cloud::Attempt<int> {
                                                ++calls;
                                                return {Error::key_not_found("gone"), false};
                                              });
  ASSERT_FALSE(final_error);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(final_error.error().kind, ErrorKind::kKeyNotFound);
}

TEST(CloudRetry, TheDeadlineBoundsAttemptsAndWaits) {
  auto policy = fast_policy(10);
  policy.backoff_base = 40ms;
  policy.backoff_max = 40ms;
  auto start = Context::Clock::now();
  Context ctx = Context::with_timeout(150ms);
  std::vector<std::chrono::milliseconds> timeouts;
  auto r = cloud::with_retries<int>(ctx, policy, "op", [&](std::chrono::milliseconds t) -> cloud::Attempt<int> {
    timeouts.push_back(t);
    std::this_thread::sleep_for(30ms);  // each attempt takes a while: ten cannot fit in 150 ms
    return {Error::unavailable("slow"), true};
  });
  auto took = Context::Clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kProviderUnavailable);
  EXPECT_LT(took, 400ms);
  EXPECT_LT(timeouts.size(), 10u);
  for (auto t : timeouts) EXPECT_LE(t, 150ms);  // each attempt gets at most what the deadline leaves
  auto expired = cloud::with_retries<int>(Context::with_timeout(0ms), policy, "op",
                                          [&](std::chrono::milliseconds) -> cloud::Attempt<int> { return {1, false}; });
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().kind, ErrorKind::kDeadlineExceeded);
}

TEST(CloudRetry, CancellationStopsTheWait) {
  auto policy = fast_policy(5);
  policy.backoff_base = 2000ms;
  policy.backoff_max = 2000ms;
  CancelSource cancel;
  std::atomic<int> calls{0};
  std::thread canceller([&] {
    std::this_thread::sleep_for(50ms);
    cancel.cancel();
  });
  auto start = Context::Clock::now();
  auto r = cloud::with_retries<int>(Context::background().with_cancel(cancel), policy, "op",
                                    [&](std::chrono::milliseconds) -> cloud::Attempt<int> {
                                      calls++;
                                      return {Error::unavailable("x"), true};
                                    });
  canceller.join();
  EXPECT_FALSE(r);
  EXPECT_LT(Context::Clock::now() - start, 1500ms);
  EXPECT_LE(calls.load(), 2);
}

TEST(CloudRetry, BackoffIsBoundedAndGrows) {
  auto policy = fast_policy(8);
  policy.backoff_base = 100ms;
  policy.backoff_max = 1000ms;
  for (int attempt = 1; attempt <= 8; ++attempt) {
    auto cap = std::min<long long>(1000, 100LL << (attempt - 1));
    for (int i = 0; i < 20; ++i) EXPECT_LE(cloud::backoff_delay(policy, attempt).count(), cap);
  }
}

}  // namespace
}  // namespace ferrohsm::signer::testing
