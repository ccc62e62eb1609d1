#include "audit/writer.h"

#include "audit/chain_file.h"
#include "base/log.h"

#include <syslog.h>

#include <algorithm>
#include <chrono>

namespace ferrohsm::audit {

namespace {
constexpr size_t kWakeAt = 256;
constexpr std::chrono::milliseconds kLinger(20);
}  // namespace

Writer::Writer(Options options) : options_(std::move(options)) {}

Result<std::unique_ptr<Writer>> Writer::open(Options options) {
  if (options.file.empty()) return make_error(CKR_GENERAL_ERROR, "audit: no file");
  std::unique_ptr<Writer> w(new Writer(std::move(options)));
  auto f = ChainFile::open(w->options_.file);
  if (!f.ok()) {
    // Required: no log, no start. Otherwise the writer starts and keeps failing (and
    // counting) until the file can be written.
    if (w->options_.required) return f.error();
    log().error("{}", f.error().message);
    w->failure_logged_ = true;
  } else {
    w->file_ = std::move(*f);
  }
  if (w->options_.syslog) openlog("ferrohsm-audit", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
  w->last_checkpoint_us_ = now_us();
  w->thread_ = std::thread([p = w.get()] { p->run(); });
  return w;
}

Writer::~Writer() { close(); }

void Writer::set_signer(std::shared_ptr<Signer> signer) {
  std::lock_guard lock(signer_mu_);
  signer_ = std::move(signer);
}

Status Writer::write(Record r, bool wait) {
  std::shared_ptr<Waiter> waiter = wait ? std::make_shared<Waiter>() : nullptr;
  {
    std::unique_lock lock(mu_);
    if (closed_) return make_error(CKR_FUNCTION_FAILED, "the audit log is closed");
    queue_.push_back(Entry{std::move(r), waiter});
    // A caller that waits wakes the writer at once; otherwise the writer comes by itself
    // (kLinger) or when a batch has gathered, so that the hot path makes no syscall.
    if (wait || queue_.size() == kWakeAt) work_cv_.notify_one();
    if (!wait) return {};
    done_cv_.wait(lock, [&] { return waiter->state != 0; });
  }
  if (waiter->state == 2) return make_error(CKR_FUNCTION_FAILED, "the audit record could not be written");
  return {};
}

void Writer::close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    stop_ = true;
    work_cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  if (options_.syslog) closelog();
}

void Writer::failed(const Error& e) {
  failures_.fetch_add(1);
  // Once: a full disk would otherwise fill the other log too. The message names the
  // file and the errno, never a record's content.
  if (!failure_logged_.exchange(true)) log().error("audit: {} (further failures are counted, not logged)", e.message);
}

void Writer::run() {
  for (;;) {
    std::deque<Entry> batch;
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      // Wakes for a waiting caller, a full batch or stop; else every kLinger with what
      // has gathered (records not required are written within about that long).
      work_cv_.wait_for(lock, kLinger, [&] {
        return stop_ || queue_.size() >= kWakeAt || std::any_of(queue_.begin(), queue_.end(), [](const Entry& e) {
                 return e.waiter != nullptr;
               });
      });
      batch.swap(queue_);
      stopping = stop_ && queue_.empty();
    }
    if (!batch.empty()) write_batch(batch);
    maybe_checkpoint(stopping);
    if (stopping) {
      std::lock_guard lock(mu_);
      if (queue_.empty()) break;
    }
  }
}

void Writer::write_batch(std::deque<Entry>& batch) {
  bool must_sync = options_.required;
  for (const Entry& e : batch) must_sync |= e.waiter != nullptr;
  Status s;
  if (!file_) {
    auto f = ChainFile::open(options_.file);
    if (f.ok()) file_ = std::move(*f);
    else s = f.error();
  }
  size_t done = 0;
  if (s.ok()) s = file_->lock();
  if (s.ok()) {
    const int64_t now = now_us();
    bool rotate = (options_.rotate_bytes != 0 && file_->size() >= options_.rotate_bytes) ||
                  (options_.rotate_seconds != 0 && file_->first_time_us() != 0 &&
                   now - file_->first_time_us() >= int64_t{options_.rotate_seconds} * 1'000'000);
    if (rotate && file_->size() != 0) {
      s = checkpoint_locked("rotation");
      if (s.ok()) s = file_->rotate();
    }
    for (; s.ok() && done < batch.size(); ++done) {
      std::string line = encode_record(batch[done].record, file_->next_seq(), file_->prev());
      s = file_->append(line, false);
      if (s.ok() && options_.syslog) ::syslog(LOG_INFO, "%s", line.c_str());
    }
    if (s.ok() && must_sync) s = file_->sync();
    file_->unlock();
  }
  if (s.ok()) {
    written_.fetch_add(batch.size());
    since_checkpoint_ += batch.size();
  } else {
    failed(s.error());
  }
  {
    std::lock_guard lock(mu_);
    // Written but not synced counts as not durable: every waiter of the batch fails.
    for (Entry& e : batch)
      if (e.waiter) e.waiter->state = s.ok() ? 1 : 2;
  }
  done_cv_.notify_all();
}

Status Writer::checkpoint_locked(const std::string& reason) {
  Checkpoint c;
  c.seq = file_->next_seq();
  c.prev = file_->prev();
  c.time_us = now_us();
  c.records = c.seq;
  c.reason = reason;
  std::shared_ptr<Signer> signer;
  {
    std::lock_guard lock(signer_mu_);
    signer = signer_;
  }
  if (signer) {
    auto spki = signer->public_key_spki();
    if (spki.ok()) {
      c.key = key_fingerprint(*spki);
      c.public_key = base64(*spki);
      auto sig = signer->sign(as_bytes(checkpoint_message(c)));
      if (sig.ok()) {
        c.sig = to_hex(*sig);
      } else {
        log().warn("audit: the checkpoint at seq {} is unsigned: {}", c.seq, sig.error().message);
        c.key.clear();
        c.public_key.clear();
      }
    } else {
      log().warn("audit: the checkpoint at seq {} is unsigned: {}", c.seq, spki.error().message);
    }
  }
  if (c.sig.empty()) c.reason += " (unsigned)";
  FH_TRY(file_->append(encode_checkpoint(c), true));
  FH_TRY(file_->sync());
  since_checkpoint_ = 0;
  last_checkpoint_us_ = c.time_us;
  return {};
}

void Writer::maybe_checkpoint(bool closing) {
  const bool due = since_checkpoint_ >= options_.checkpoint_records ||
                   (since_checkpoint_ > 0 && now_us() - last_checkpoint_us_ >= int64_t{options_.checkpoint_seconds} * 1'000'000);
  if (!due && !closing) return;
  if (!file_) return;
  if (!file_->lock().ok()) return;
  // At close a log always ends with a checkpoint, unless it ends with one already.
  if (due || (file_->size() != 0 && !file_->last_is_checkpoint())) {
    Status s = checkpoint_locked(closing ? "close" : "interval");
    if (!s.ok()) failed(s.error());
  }
  file_->unlock();
}

}  // namespace ferrohsm::audit
