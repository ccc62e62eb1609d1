// Group commit: concurrent callers' writes share one transaction and one durable
// commit. A caller queues its request; the first to find no batch running becomes the
// leader, takes every request queued so far and runs them (`run`, outside the lock)
// while the next callers queue behind; each caller returns once its own request was run.
// The stores use it (SQLite for every change, PostgreSQL for creations): a commit's
// flush to disk is the cost, and N callers then pay one instead of N.
#pragma once

#include <condition_variable>
#include <mutex>
#include <vector>

namespace ferrohsm {

template <typename Request>
class GroupCommit {
 public:
  // Returns once `req` was part of a batch that `run` finished. `run` sets each
  // request's outcome; it is called by whichever caller leads, never with the lock held.
  template <typename Run>
  void submit(Request& req, Run&& run) {
    bool done = false;
    Entry mine{&req, &done};
    std::unique_lock lock(mu_);
    queue_.push_back(mine);
    while (!done) {
      if (leader_active_) {
        cv_.wait(lock);
        continue;
      }
      leader_active_ = true;
      std::vector<Entry> batch;
      batch.swap(queue_);
      lock.unlock();
      std::vector<Request*> requests;
      requests.reserve(batch.size());
      for (const Entry& e : batch) requests.push_back(e.req);
      run(requests);
      lock.lock();
      for (const Entry& e : batch) *e.done = true;
      leader_active_ = false;
      cv_.notify_all();
    }
  }

 private:
  struct Entry {
    Request* req;
    bool* done;  // guarded by mu_
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Entry> queue_;
  bool leader_active_ = false;
};

}  // namespace ferrohsm
