// The KeyProvider contract: one behaviour for every adapter.
#include "base/bytes.h"
#include "support/provider_contract.h"

#include <atomic>
#include <thread>
#include <vector>

#include "ferrohsm/signer/ed25519.h"
#include "support/reference.h"
#include "support/shorthand.h"

namespace ferrohsm::signer::testing {
namespace {

// RFC 8032 §7.1, TEST SHA(abc): the message is SHA-512("abc"), i.e. exactly a signer digest.
constexpr std::string_view kRfcShaAbcSecret = "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42";
constexpr std::string_view kRfcShaAbcPublic = "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf";
constexpr std::string_view kRfcShaAbcSignature =
    "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
    "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704";

TEST_P(ProviderContract, GeneratedKeySignsPureEd25519OverTheDigestBytes) {
  auto gen = provider().generate(kCtx, S("payments"), K("k1"));
  ASSERT_TRUE(gen) << gen.error().message;
  EXPECT_FALSE(gen->handle_id.empty());
  Digest digest = sha512_of("abc");
  auto sig = provider().sign(kCtx, gen->handle_id, digest);
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_TRUE(ed25519::verify(gen->public_key, digest, *sig));
  // Not a signature over the pre-image, nor over a re-hash of the digest.
  std::string abc = "abc";
  EXPECT_FALSE(ed25519::verify(gen->public_key, as_bytes(abc), *sig));
  Digest rehash = sha512_of(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  EXPECT_FALSE(ed25519::verify(gen->public_key, rehash, *sig));
}

TEST_P(ProviderContract, SignaturesAreDeterministicAndPublicKeyMatches) {
  auto gen = provider().generate(kCtx, S("payments"), K("k1"));
  ASSERT_TRUE(gen) << gen.error().message;
  auto pub = provider().public_key(kCtx, gen->handle_id);
  ASSERT_TRUE(pub) << pub.error().message;
  EXPECT_EQ(*pub, gen->public_key);
  Digest digest = sha512_of("deterministic");
  auto a = provider().sign(kCtx, gen->handle_id, digest);
  auto b = provider().sign(kCtx, gen->handle_id, digest);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  auto c = provider().sign(kCtx, gen->handle_id, sha512_of("other"));
  ASSERT_TRUE(c);
  EXPECT_NE(*a, *c);
}

TEST_P(ProviderContract, MatchesReferenceEd25519WhenTheKeyIsKnown) {
  const auto& f = GetParam();
  if (f.import_key) {
    auto secret = unhex(kRfcShaAbcSecret);
    auto gen = f.import_key(provider(), S("rfc8032"), K("sha-abc"), std::span<const std::uint8_t, 32>(secret.data(), 32));
    ASSERT_TRUE(gen.has_value());
    EXPECT_EQ(std::vector<std::uint8_t>(gen->public_key.begin(), gen->public_key.end()), unhex(kRfcShaAbcPublic));
    auto sig = provider().sign(kCtx, gen->handle_id, sha512_of("abc"));
    ASSERT_TRUE(sig) << sig.error().message;
    EXPECT_EQ(std::vector<std::uint8_t>(sig->begin(), sig->end()), unhex(kRfcShaAbcSignature));
  } else if (f.expected_private_seed) {
    auto gen = provider().generate(kCtx, S("payments"), K("k1"));
    ASSERT_TRUE(gen);
    auto seed = f.expected_private_seed(S("payments"), K("k1"));
    ASSERT_TRUE(seed.has_value());
    EXPECT_EQ(gen->public_key, reference_public(*seed));
    Digest digest = sha512_of("abc");
    auto sig = provider().sign(kCtx, gen->handle_id, digest);
    ASSERT_TRUE(sig);
    EXPECT_EQ(*sig, reference_sign(*seed, digest));
  } else {
    GTEST_SKIP() << GetParam().name << " keeps its keys unknowable; covered by the verification tests";
  }
}

TEST_P(ProviderContract, KeysDifferByScopeAndKeyIdAndGenerateIsStable) {
  auto a = provider().generate(kCtx, S("payments"), K("k1"));
  auto b = provider().generate(kCtx, S("payments"), K("k2"));
  auto c = provider().generate(kCtx, S("billing"), K("k1"));
  auto again = provider().generate(kCtx, S("payments"), K("k1"));
  ASSERT_TRUE(a && b && c && again);
  EXPECT_NE(a->public_key, b->public_key);
  EXPECT_NE(a->public_key, c->public_key);
  EXPECT_NE(a->handle_id, b->handle_id);
  EXPECT_EQ(again->handle_id, a->handle_id);
  EXPECT_EQ(again->public_key, a->public_key);
}

TEST_P(ProviderContract, UnknownHandlesAreKeyNotFound) {
  for (std::string handle : {"", "nonsense", "software", "software:", "testdouble:", "pkcs11:x"}) {
    auto sig = provider().sign(kCtx, handle, sha512_of("x"));
    ASSERT_FALSE(sig) << handle;
    EXPECT_EQ(sig.error().kind, ErrorKind::kKeyNotFound) << handle;
    auto pub = provider().public_key(kCtx, handle);
    ASSERT_FALSE(pub) << handle;
    EXPECT_EQ(pub.error().kind, ErrorKind::kKeyNotFound) << handle;
    auto ret = provider().retire(kCtx, handle);
    ASSERT_FALSE(ret) << handle;
    EXPECT_EQ(ret.error().kind, ErrorKind::kKeyNotFound) << handle;
  }
}

TEST_P(ProviderContract, RetireIsIdempotentAndStopsSigning) {
  auto gen = provider().generate(kCtx, S("payments"), K("old"));
  ASSERT_TRUE(gen);
  ASSERT_TRUE(provider().sign(kCtx, gen->handle_id, sha512_of("before")));
  EXPECT_TRUE(provider().retire(kCtx, gen->handle_id));
  EXPECT_TRUE(provider().retire(kCtx, gen->handle_id));  // again: still fine
  auto sig = provider().sign(kCtx, gen->handle_id, sha512_of("after"));
  ASSERT_FALSE(sig);
  EXPECT_EQ(sig.error().kind, ErrorKind::kKeyRetired);
  // The public half stays available for verification.
  auto pub = provider().public_key(kCtx, gen->handle_id);
  ASSERT_TRUE(pub);
  EXPECT_EQ(*pub, gen->public_key);
}

TEST_P(ProviderContract, HonoursDeadlineAndCancellation) {
  auto gen = provider().generate(kCtx, S("payments"), K("k1"));
  ASSERT_TRUE(gen);
  Context expired = Context::background().with_deadline(Context::Clock::now() - std::chrono::seconds(1));
  auto sig = provider().sign(expired, gen->handle_id, sha512_of("x"));
  ASSERT_FALSE(sig);
  EXPECT_EQ(sig.error().kind, ErrorKind::kDeadlineExceeded);
  CancelSource cancel;
  Context cancellable = Context::background().with_cancel(cancel);
  ASSERT_TRUE(provider().sign(cancellable, gen->handle_id, sha512_of("x")));
  cancel.cancel();
  auto gen2 = provider().generate(cancellable, S("payments"), K("k2"));
  ASSERT_FALSE(gen2);
  EXPECT_EQ(gen2.error().kind, ErrorKind::kCancelled);
}

TEST_P(ProviderContract, ConcurrentGenerateSignAndRetire) {
  constexpr int kThreads = 8, kRounds = 40;
  std::vector<GeneratedKey> shared;
  for (int i = 0; i < 4; ++i) {
    auto g = provider().generate(kCtx, S("shared"), K("k" + std::to_string(i)));
    ASSERT_TRUE(g);
    shared.push_back(*g);
  }
  std::atomic<int> failures{0}, signatures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        const auto& key = shared[static_cast<std::size_t>((t + r) % 4)];
        Digest d = sha512_of("t" + std::to_string(t) + "r" + std::to_string(r));
        auto sig = provider().sign(kCtx, key.handle_id, d);
        if (!sig || !ed25519::verify(key.public_key, d, *sig)) failures++;
        else signatures++;
        if (r % 10 == 0) {
          auto own = provider().generate(kCtx, S("thread" + std::to_string(t)), K("r" + std::to_string(r)));
          if (!own || !provider().retire(kCtx, own->handle_id) || !provider().retire(kCtx, own->handle_id)) failures++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(signatures.load(), kThreads * kRounds);
}

}  // namespace
}  // namespace ferrohsm::signer::testing
