#include "audit/chain_file.h"

#include "audit/record.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace ferrohsm::audit {

namespace {

Error io_error(const std::string& what, const std::string& path) {
  return make_error(CKR_FUNCTION_FAILED, "audit file " + path + ": " + what + ": " + std::strerror(errno));
}

// The file's last complete line (without its line end), or "" for an empty file.
Result<std::string> last_line(int fd, uint64_t size, const std::string& path) {
  constexpr uint64_t kWindow = 1 << 16;  // a line is far shorter (fields are bounded)
  const uint64_t start = size > kWindow ? size - kWindow : 0;
  std::string buf(size - start, '\0');
  ssize_t n = pread(fd, buf.data(), buf.size(), static_cast<off_t>(start));
  if (n < 0 || static_cast<size_t>(n) != buf.size()) return io_error("cannot read its tail", path);
  if (buf.empty()) return std::string();
  if (buf.back() != '\n') return make_error(CKR_FUNCTION_FAILED, "audit file " + path + " ends in a partial line");
  buf.pop_back();
  size_t nl = buf.rfind('\n');
  return nl == std::string::npos ? buf : buf.substr(nl + 1);
}

Result<std::string> first_line(int fd, const std::string& path) {
  std::string buf(1 << 16, '\0');
  ssize_t n = pread(fd, buf.data(), buf.size(), 0);
  if (n < 0) return io_error("cannot read its head", path);
  buf.resize(static_cast<size_t>(n));
  size_t nl = buf.find('\n');
  return nl == std::string::npos ? std::string() : buf.substr(0, nl);
}

}  // namespace

Result<std::unique_ptr<ChainFile>> ChainFile::open(const std::string& path) {
  std::unique_ptr<ChainFile> f(new ChainFile(path));
  FH_TRY(f->reopen());
  FH_TRY(f->lock());
  f->unlock();
  return f;
}

ChainFile::~ChainFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status ChainFile::reopen() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return io_error("cannot be opened for writing", path_);
  synced_ = false;
  return {};
}

Status ChainFile::lock() {
  for (int tries = 0;; ++tries) {
    if (fd_ < 0) FH_TRY(reopen());
    if (flock(fd_, LOCK_EX) != 0) return io_error("cannot be locked", path_);
    // Another process may have rotated the file away from under this descriptor.
    struct stat by_path{}, by_fd{};
    if (stat(path_.c_str(), &by_path) == 0 && fstat(fd_, &by_fd) == 0 && by_path.st_ino == by_fd.st_ino &&
        by_path.st_dev == by_fd.st_dev)
      break;
    flock(fd_, LOCK_UN);
    if (tries > 8) return make_error(CKR_FUNCTION_FAILED, "audit file " + path_ + " keeps changing under the lock");
    FH_TRY(reopen());
  }
  Status s = resync();
  if (!s.ok()) unlock();
  return s;
}

void ChainFile::unlock() {
  if (fd_ >= 0) flock(fd_, LOCK_UN);
}

Status ChainFile::resync() {
  struct stat st{};
  if (fstat(fd_, &st) != 0) return io_error("cannot be examined", path_);
  const auto size = static_cast<uint64_t>(st.st_size);
  if (synced_ && size == size_) return {};
  // A descriptor opened O_WRONLY cannot be read: the tail is read through a second one.
  int rfd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (rfd < 0) return io_error("cannot be read", path_);
  auto tail = last_line(rfd, size, path_);
  auto head = first_line(rfd, path_);
  ::close(rfd);
  if (!tail.ok()) return tail.error();
  if (!head.ok()) return head.error();
  if (tail->empty()) {
    next_seq_ = synced_ ? next_seq_ : 0;
    if (!synced_) prev_ = kZeroHash;
    last_is_checkpoint_ = false;
    first_time_us_ = 0;
  } else {
    auto l = decode_line(*tail);
    if (!l.ok())
      return make_error(CKR_FUNCTION_FAILED, "audit file " + path_ + ": its last line is not a record: " +
                                                 l.error().message);
    next_seq_ = l->seq + 1;
    prev_ = line_hash(*tail);
    last_is_checkpoint_ = l->kind == "checkpoint";
    auto h = decode_line(*head);
    first_time_us_ = h.ok() ? h->time_us : now_us();
  }
  size_ = size;
  synced_ = true;
  return {};
}

Status ChainFile::append(const std::string& line, bool is_checkpoint) {
  std::string buf = line + "\n";
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::write(fd_, buf.data() + done, buf.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error e = io_error("cannot be written", path_);
      if (ftruncate(fd_, static_cast<off_t>(size_)) != 0) synced_ = false;  // read the head again next time
      return e;
    }
    done += static_cast<size_t>(n);
  }
  if (size_ == 0) first_time_us_ = now_us();
  size_ += buf.size();
  ++next_seq_;
  prev_ = line_hash(line);
  last_is_checkpoint_ = is_checkpoint;
  return {};
}

Status ChainFile::sync() {
  if (fdatasync(fd_) != 0) return io_error("cannot be synced", path_);
  return {};
}

Status ChainFile::rotate() {
  namespace fs = std::filesystem;
  FH_TRY(sync());
  std::string stamp = format_time(now_us());
  std::string compact;
  for (char c : stamp)
    if (c != '-' && c != ':') compact += c;
  std::string target = path_ + "." + compact;
  for (int i = 1; fs::exists(target); ++i) target = path_ + "." + compact + "-" + std::to_string(i);
  if (::rename(path_.c_str(), target.c_str()) != 0) return io_error("cannot be renamed to " + target, path_);
  const uint64_t seq = next_seq_;
  const std::string prev = prev_;
  int old = fd_;
  fd_ = -1;
  FH_TRY(reopen());
  // The old descriptor still holds the lock on the renamed file; the new file is new to
  // everyone, so this process locks it before anyone else writes to it.
  if (flock(fd_, LOCK_EX) != 0) {
    ::close(old);
    return io_error("cannot be locked", path_);
  }
  ::close(old);
  size_ = 0;
  synced_ = true;
  next_seq_ = seq;
  prev_ = prev;
  return append(encode_open(seq, prev, now_us(), fs::path(target).filename().string()), false);
}

}  // namespace ferrohsm::audit
