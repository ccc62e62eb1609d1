// The audit file and the chain's head, shared by every process that writes it: each
// append happens under an exclusive flock, after the head (seq, hash of the last line)
// has been read again from the file's tail if another process wrote since. Rotation
// renames the file (FILE.<UTC time>) under the same lock and starts the new file with
// an "open" line chained to the old file's last line, so the chain goes on.
#pragma once

#include "base/result.h"

#include <cstdint>
#include <memory>
#include <string>

namespace ferrohsm::audit {

class ChainFile {
 public:
  static Result<std::unique_ptr<ChainFile>> open(const std::string& path);
  ~ChainFile();

  // Takes the lock and brings the head up to date (reopening the file when another
  // process rotated it).
  Status lock();
  void unlock();

  uint64_t next_seq() const { return next_seq_; }
  const std::string& prev() const { return prev_; }
  bool last_is_checkpoint() const { return last_is_checkpoint_; }
  uint64_t size() const { return size_; }
  int64_t first_time_us() const { return first_time_us_; }  // 0: empty file

  // Appends one line (no line end) under the lock: the head moves on.
  // All or nothing: a failed write is cut back off the file.
  Status append(const std::string& line, bool is_checkpoint);
  Status sync();
  // Renames the file to FILE.<time> and starts a new one chained to it; under the lock.
  Status rotate();
  const std::string& path() const { return path_; }

 private:
  explicit ChainFile(std::string path) : path_(std::move(path)) {}
  Status reopen();
  Status resync();

  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;  // what this process last saw
  bool synced_ = false;
  uint64_t next_seq_ = 0;
  std::string prev_;
  bool last_is_checkpoint_ = false;
  int64_t first_time_us_ = 0;
};

}  // namespace ferrohsm::audit
