// The audit trail's writer: callers queue records, one thread writes them in batches to
// the chain file (and syslog), rotates it, and writes the signed checkpoints — at an
// interval, at every rotation and at close. In required mode a caller waits until its
// record is durable: every record queued at that moment shares one fdatasync (group
// commit), and a record that cannot be written is the caller's CKR_FUNCTION_FAILED.
#pragma once

#include "audit/record.h"
#include "audit/signer.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace ferrohsm::audit {

struct Options {
  std::string file;                 // the JSON-lines file
  uint64_t rotate_bytes = 0;        // 0: never by size
  uint32_t rotate_seconds = 0;      // 0: never by age
  uint32_t checkpoint_seconds = 60;
  uint32_t checkpoint_records = 1000;
  bool required = false;            // no record, no operation
  bool syslog = false;              // also each line to syslog(3) (journald reads it)
};

class ChainFile;

class Writer {
 public:
  static Result<std::unique_ptr<Writer>> open(Options options);
  ~Writer();

  // The checkpoint signer (the core's, over the audit key); none: unsigned checkpoints.
  void set_signer(std::shared_ptr<Signer> signer);
  const Options& options() const { return options_; }
  bool required() const { return options_.required; }

  // Queues `r`. With `wait`: returns once it is durable, or CKR_FUNCTION_FAILED when it
  // could not be written. Without: returns at once; a failure is logged once and counted.
  Status write(Record r, bool wait);
  // Writes what is queued and a closing checkpoint, and stops the thread. Idempotent.
  void close();

  uint64_t failures() const { return failures_.load(); }
  uint64_t written() const { return written_.load(); }

 private:
  struct Waiter {
    int state = 0;  // 0 pending, 1 durable, 2 failed
  };
  struct Entry {
    Record record;
    std::shared_ptr<Waiter> waiter;
  };

  explicit Writer(Options options);
  void run();
  void write_batch(std::deque<Entry>& batch);
  // Under the file's lock.
  Status checkpoint_locked(const std::string& reason);
  void maybe_checkpoint(bool closing);
  void failed(const Error& e);

  Options options_;
  std::unique_ptr<ChainFile> file_;
  std::mutex signer_mu_;
  std::shared_ptr<Signer> signer_;

  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<Entry> queue_;
  bool stop_ = false;
  bool closed_ = false;
  std::thread thread_;

  // The writer thread's own.
  uint64_t since_checkpoint_ = 0;
  int64_t last_checkpoint_us_ = 0;

  std::atomic<uint64_t> failures_{0}, written_{0};
  std::atomic<bool> failure_logged_{false};
};

}  // namespace ferrohsm::audit
