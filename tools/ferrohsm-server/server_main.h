// The body of a ferrohsm-server process, given what it serves:
//   ferrohsm-server --config server.toml [--check]
// reads the configuration, sets up logging, makes the Service, starts the Server,
// tells systemd it is ready, then waits for signals: SIGHUP reloads the configuration
// (TLS material, access rules, limits, and the Service's own reload), SIGTERM and SIGINT
// stop it (calls in flight finish, bounded by limits.shutdown_timeout_ms) and it exits 0.
// tools/ferrohsm-server serves the PKCS#11 service; the tests serve a test service.
#pragma once

#include "base/result.h"
#include "server/config.h"
#include "server/service.h"

#include <functional>
#include <memory>

namespace ferrohsm::server {

using ServiceFactory = std::function<Result<std::unique_ptr<Service>>(const ServerConfig&)>;

// Exit codes: 0 stopped cleanly (or --check passed), 1 could not start or calls were
// still running at the shutdown deadline, 2 bad command line or configuration.
int server_main(int argc, char** argv, const ServiceFactory& make_service);

}  // namespace ferrohsm::server
