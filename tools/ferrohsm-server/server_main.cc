#include "server_main.h"

#include "base/log.h"
#include "server/server.h"

#include <CLI/CLI.hpp>
#include <signal.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <iostream>

namespace ferrohsm::server {
namespace {

// Enough descriptors for max_connections plus the store and the listeners.
void raise_file_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

void apply_logging(const ServerConfig& c) {
  std::string why;
  if (!configure_logging(c.core.log_level, c.core.log_destination, &why)) log().error("{}", why);
}

}  // namespace

int server_main(int argc, char** argv, const ServiceFactory& make_service) {
  CLI::App app{"ferrohsm-server — serves FerroHSM tokens to the PKCS#11 library in sidecar mode (docs/SERVER.md)"};
  std::string config_path;
  bool check = false;
  app.add_option("--config", config_path, "server configuration (server.toml)")->required();
  app.add_flag("--check", check, "read the configuration, report what is wrong, and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  // Signals are taken by sigwait below; every thread started from here on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto config = load_server_config(config_path);
  if (!config) {
    std::cerr << "ferrohsm-server: " << config.error().message << "\n";
    return 2;
  }
  if (check) {
    std::cout << "ferrohsm-server: " << config_path << " is valid (" << config->listen.size() << " listen entries, "
              << config->access.size() << " access rules)\n";
    return 0;
  }
  apply_logging(*config);
  raise_file_limit();

  auto service = make_service(*config);
  if (!service) {
    log().error("cannot start the service: {}", service.error().message);
    return 1;
  }
  auto server = std::make_unique<Server>(*config, **service);
  if (Status s = server->start(); !s) {
    log().error("cannot start: {}", s.error().message);
    return 1;
  }
  sd_notify(0, "READY=1");

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      sd_notify(0, "RELOADING=1");
      log().info("SIGHUP: reloading {}", config_path);
      auto next = load_server_config(config_path);
      if (!next) {
        log().error("reload refused, the running configuration stays: {}", next.error().message);
      } else if (Status s = server->reload(*next); !s) {
        log().error("reload refused, the running configuration stays: {}", s.error().message);
      } else {
        apply_logging(*next);
      }
      sd_notify(0, "READY=1");
      continue;
    }
    log().info("{}: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    sd_notify(0, "STOPPING=1");
    if (!server->stop()) {
      // Threads still run calls: the objects they use must not be destroyed under them.
      log().flush();
      std::_Exit(1);
    }
    server.reset();
    service->reset();
    return 0;
  }
}

}  // namespace ferrohsm::server
