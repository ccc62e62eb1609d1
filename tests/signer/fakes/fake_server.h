// The loopback HTTP server under each cloud fake (cpp-httplib, in the test process):
// binds 127.0.0.1 on a free port, serves from its own thread, stops in the destructor.
// Faults are injected ahead of the routes: the next N requests get a given answer
// (throttling, 5xx) or wait before answering (timeouts).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace ferrohsm::signer::testing {

struct Fault {
  int status = 500;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // wait this long first (a client with a shorter timeout gives up)
  bool then_route = false;             // after the delay, answer normally instead
};

class FakeServer {
 public:
  FakeServer();
  virtual ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // The next `count` requests (whose path contains `path_part`) get `fault`.
  void inject(const Fault& fault, int count = 1, const std::string& path_part = "");
  int requests() const { return requests_.load(); }
  int faults_served() const { return faults_served_.load(); }

 protected:
  httplib::Server& http() { return server_; }
  // Installs routes (derived constructors), then starts serving.
  void start();
  // Stops serving before the derived part of the object goes (derived destructors call it).
  void stop();

 private:
  struct Pending {
    Fault fault;
    int left;
    std::string path_part;
  };
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::deque<Pending> faults_;
  std::atomic<int> requests_{0}, faults_served_{0};
};

}  // namespace ferrohsm::signer::testing
