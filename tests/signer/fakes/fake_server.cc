#include "fakes/fake_server.h"

namespace ferrohsm::signer::testing {

FakeServer::FakeServer() {
  // Enough workers for the contract suite's eight threads plus kept-alive connections.
  server_.new_task_queue = [] { return new httplib::ThreadPool(48); };
  server_.set_keep_alive_timeout(2);
  server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    requests_++;
    Fault fault;
    {
      std::lock_guard lock(mu_);
      auto it = faults_.begin();
      while (it != faults_.end() && req.path.find(it->path_part) == std::string::npos) ++it;
      if (it == faults_.end()) return httplib::Server::HandlerResponse::Unhandled;
      fault = it->fault;
      if (--it->left == 0) faults_.erase(it);
    }
    faults_served_++;
    if (fault.delay.count() > 0) std::this_thread::sleep_for(fault.delay);
    if (fault.then_route) return httplib::Server::HandlerResponse::Unhandled;
    res.status = fault.status;
    for (const auto& [k, v] : fault.headers) res.set_header(k, v);
    res.set_content(fault.body, fault.content_type);
    return httplib::Server::HandlerResponse::Handled;
  });
}

FakeServer::~FakeServer() { stop(); }

void FakeServer::start() {
  port_ = server_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  for (int i = 0; i < 2000 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void FakeServer::stop() {
  if (!thread_.joinable()) return;
  server_.stop();
  thread_.join();
}

void FakeServer::inject(const Fault& fault, int count, const std::string& path_part) {
  std::lock_guard lock(mu_);
  faults_.push_back({fault, count, path_part});
}

}  // namespace ferrohsm::signer::testing
