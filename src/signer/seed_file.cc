#include "ferrohsm/signer/seed_file.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ferrohsm::signer {

Result<SecretBytes<kSeedSize>> read_seed_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Error::invalid("cannot open seed file " + path + ": " + std::strerror(errno));
  SecretBytes<kSeedSize> seed;
  auto buf = seed.mutable_span();
  std::uint8_t extra = 0;
  std::size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ssize_t more = ::read(fd, &extra, 1);
  ::close(fd);
  if (got != kSeedSize || more != 0)
    return Error::invalid("seed file " + path + " must hold exactly 32 bytes");
  return seed;
}

Result<bool> ensure_seed_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(path, ec)) return false;
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::exists(parent, ec)) {
    fs::create_directories(parent, ec);
    if (ec) return Error::invalid("cannot create directory " + parent.string() + ": " + ec.message());
    ::chmod(parent.c_str(), 0700);
  }
  SecretBytes<kSeedSize> seed;
  auto buf = seed.mutable_span();
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1)
    return Error::internal("no randomness for a new seed");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return false;  // another process made it first
    return Error::invalid("cannot create seed file " + path + ": " + std::strerror(errno));
  }
  ssize_t n = ::write(fd, buf.data(), buf.size());
  bool ok = n == static_cast<ssize_t>(buf.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Error::invalid("cannot write seed file " + path);
  }
  return true;
}

}  // namespace ferrohsm::signer
