// A second process for the two-process test: with the seed file only, derives the key
// behind a software handle on demand and signs a digest.
//   software_sign_helper <seed_file> <handle> <digest_hex>  →  "<public_hex> <signature_hex>\n"
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "base/bytes.h"
#include "ferrohsm/signer/software_provider.h"

using namespace ferrohsm::signer;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: software_sign_helper <seed_file> <handle> <digest_hex>\n");
    return 2;
  }
  spdlog::set_default_logger(spdlog::stderr_logger_mt("helper"));  // stdout carries the answer
  auto provider = SoftwareProvider::from_seed_file(argv[1]);
  if (!provider) {
    std::fprintf(stderr, "%s\n", provider.error().message.c_str());
    return 1;
  }
  ferrohsm::Bytes bytes;
  if (!ferrohsm::from_hex(argv[3], bytes) || bytes.size() != 64) return 2;
  Digest digest{};
  std::copy(bytes.begin(), bytes.end(), digest.begin());
  auto ctx = Context::background();
  auto pub = (*provider)->public_key(ctx, argv[2]);
  auto sig = (*provider)->sign(ctx, argv[2], digest);
  if (!pub || !sig) {
    std::fprintf(stderr, "%s\n", (!pub ? pub.error() : sig.error()).message.c_str());
    return 1;
  }
  std::printf("%s %s\n", ferrohsm::to_hex(*pub).c_str(), ferrohsm::to_hex(*sig).c_str());
  return 0;
}
