// The software provider's own rules: handle layout, on-demand derivation (also across
// processes), strict retire, the seed file, and exactly one dev-only warning.
#include <gtest/gtest.h>
#include <openssl/rand.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <sstream>

#include "ferrohsm/signer/ed25519.h"
#include "base/bytes.h"
#include "ferrohsm/signer/seed_file.h"
#include "ferrohsm/signer/software_provider.h"
#include "support/process.h"
#include "support/reference.h"
#include "support/shorthand.h"

namespace ferrohsm::signer::testing {
namespace {

std::array<std::uint8_t, 32> random_seed() {
  std::array<std::uint8_t, 32> s{};
  RAND_bytes(s.data(), 32);
  return s;
}
SoftwareProvider make(const std::array<std::uint8_t, 32>& seed) {
  return SoftwareProvider(SecretBytes<32>(std::span<const std::uint8_t, 32>(seed)));
}

TEST(SoftwareProvider, HandleLayout) {
  auto seed = random_seed();
  auto p = make(seed);
  auto gen = p.generate(kCtx, S("payments"), K("k1"));
  ASSERT_TRUE(gen);
  EXPECT_EQ(gen->handle_id, "software:payments|k1");
  auto parsed = SoftwareProvider::parse_handle("software:payments|k1");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->first.str(), "payments");
  EXPECT_EQ(parsed->second.str(), "k1");
  for (auto bad : {"software:payments", "software:|k1", "software:payments|", "pkcs11:payments|k1",
                   "software:Pay|k1", "software:a|b|c"})
    EXPECT_FALSE(SoftwareProvider::parse_handle(bad)) << bad;
}

TEST(SoftwareProvider, DerivesUnseenHandlesOnDemandWithTheSameSeed) {
  auto seed = random_seed();
  auto first = make(seed);
  auto gen = first.generate(kCtx, S("payments"), K("k7"));
  ASSERT_TRUE(gen);
  Digest d = sha512_of("on demand");
  auto sig1 = first.sign(kCtx, gen->handle_id, d);

  auto sibling = make(seed);  // never generated anything
  auto pub2 = sibling.public_key(kCtx, gen->handle_id);
  auto sig2 = sibling.sign(kCtx, gen->handle_id, d);
  ASSERT_TRUE(sig1 && pub2 && sig2);
  EXPECT_EQ(*pub2, gen->public_key);
  EXPECT_EQ(*sig2, *sig1);

  auto stranger = make(random_seed());
  auto pub3 = stranger.public_key(kCtx, gen->handle_id);
  ASSERT_TRUE(pub3);
  EXPECT_NE(*pub3, gen->public_key);
}

TEST(SoftwareProvider, RetireIsStrictForHandlesItNeverSaw) {
  auto seed = random_seed();
  auto p = make(seed);
  auto r = p.retire(kCtx, "software:payments|never");  // parses, but unknown here
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kKeyNotFound);
  // Once derived (by a sign), this process knows it and retire works, idempotently.
  ASSERT_TRUE(p.sign(kCtx, "software:payments|never", sha512_of("x")));
  EXPECT_TRUE(p.retire(kCtx, "software:payments|never"));
  EXPECT_TRUE(p.retire(kCtx, "software:payments|never"));
  auto gen = p.generate(kCtx, S("payments"), K("never"));
  ASSERT_FALSE(gen);
  EXPECT_EQ(gen.error().kind, ErrorKind::kKeyRetired);
}

TEST(SoftwareProvider, LogsExactlyOneDevOnlyWarning) {
  std::ostringstream captured;
  auto logger = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  {
    auto p = make(random_seed());
    auto gen = p.generate(kCtx, S("payments"), K("k1"));
    ASSERT_TRUE(gen);
    ASSERT_TRUE(p.sign(kCtx, gen->handle_id, sha512_of("x")));
    ASSERT_TRUE(p.sign(kCtx, "software:other|k2", sha512_of("x")));
    EXPECT_TRUE(p.dev_only());
  }
  spdlog::set_default_logger(previous);
  std::istringstream lines(captured.str());
  int dev_only_lines = 0, warning_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    dev_only_lines += line.find("dev-only") != std::string::npos;
    warning_lines += line.find("[warning]") != std::string::npos;
  }
  EXPECT_EQ(dev_only_lines, 1) << captured.str();
  EXPECT_EQ(warning_lines, 1) << captured.str();
}

TEST(SeedFile, CreatedOnceWithMode0600AndReadBack) {
  TempDir dir;
  std::string path = dir.file("state/seed");
  auto created = ensure_seed_file(path);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_TRUE(*created);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  auto first = read_seed_file(path);
  ASSERT_TRUE(first);
  auto again = ensure_seed_file(path);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);  // kept, not replaced
  auto second = read_seed_file(path);
  ASSERT_TRUE(second);
  EXPECT_TRUE(std::equal(first->span().begin(), first->span().end(), second->span().begin()));
}

TEST(SeedFile, WrongSizeOrMissingIsAClearError) {
  TempDir dir;
  std::vector<std::uint8_t> short_seed(31, 1), long_seed(33, 1);
  write_file(dir.file("short"), short_seed);
  write_file(dir.file("long"), long_seed);
  for (auto name : {"short", "long"}) {
    auto r = read_seed_file(dir.file(name));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("exactly 32 bytes"), std::string::npos);
  }
  auto missing = SoftwareProvider::from_seed_file(dir.file("missing"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cannot open seed file"), std::string::npos);
}

TEST(SoftwareProvider, TwoProcessesWithTheSameSeedSignIdentically) {
  TempDir dir;
  auto seed = random_seed();
  write_file(dir.file("seed"), seed);
  auto provider = SoftwareProvider::from_seed_file(dir.file("seed"));
  ASSERT_TRUE(provider);
  auto gen = (*provider)->generate(kCtx, S("payments"), K("cross-process"));
  ASSERT_TRUE(gen);
  Digest d = sha512_of("two processes");
  auto sig = (*provider)->sign(kCtx, gen->handle_id, d);
  ASSERT_TRUE(sig);

  auto child = run_command({FERROHSM_SOFTWARE_SIGN_HELPER, dir.file("seed"), gen->handle_id, to_hex(d)});
  ASSERT_EQ(child.exit_code, 0) << child.err;
  EXPECT_EQ(child.out, to_hex(gen->public_key) + " " + to_hex(*sig) + "\n");
  EXPECT_TRUE(ed25519::verify(gen->public_key, d, *sig));

  auto other_seed = random_seed();
  write_file(dir.file("other"), other_seed);
  auto stranger = run_command({FERROHSM_SOFTWARE_SIGN_HELPER, dir.file("other"), gen->handle_id, to_hex(d)});
  ASSERT_EQ(stranger.exit_code, 0) << stranger.err;
  EXPECT_NE(stranger.out, child.out);

  auto bad = run_command({FERROHSM_SOFTWARE_SIGN_HELPER, dir.file("seed"), "software:nope", to_hex(d)});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("no software key"), std::string::npos);
}

}  // namespace
}  // namespace ferrohsm::signer::testing
