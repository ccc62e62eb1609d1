// What a connection needs from the server it belongs to (internal to src/server): the
// threads to run calls on, the Service, the current settings, and the books of who is
// connected (the connection limits and the status call read them).
#pragma once

#include "server/access.h"
#include "server/config.h"
#include "server/service.h"

#include <asio/io_context.hpp>
#include <asio/ssl/context.hpp>
#include <asio/thread_pool.hpp>

#include <memory>
#include <string>
#include <vector>

namespace ferrohsm::server {

class Connection;

// Each I/O thread runs an io_context of its own; a connection lives on one of them, so
// everything that touches its socket runs on that one thread.
using Executor = asio::io_context::executor_type;

// One consistent view of what a reload may change; a connection keeps the one it was
// accepted under (its limits), the access check reads the newest.
struct Settings {
  Limits limits;
  std::vector<AccessRule> access;
  std::shared_ptr<asio::ssl::context> tls;  // null without tcp: endpoints
};

class Hub {
 public:
  virtual ~Hub() = default;
  // Quick calls that arrived together on one connection.
  virtual asio::thread_pool& worker_pool() = 0;
  // Service::slow() calls.
  virtual asio::thread_pool& blocking_pool() = 0;
  virtual Service& service() = 0;
  virtual std::shared_ptr<const Settings> settings() const = 0;
  // Counts one more connection of `identity` past its Hello; false at the per-peer limit.
  virtual bool admit(const std::string& identity) = 0;
  // The connection has finished (its Application is closed): forget it.
  virtual void finished(Connection* connection, bool admitted) = 0;
  virtual wire::ServerStatus status() const = 0;
};

}  // namespace ferrohsm::server
