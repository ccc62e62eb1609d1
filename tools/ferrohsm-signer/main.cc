// ferrohsm-signer: the signing daemon. Wiring only: configuration → provider →
// state store → rotation service → HTTP API → listen until SIGINT/SIGTERM.
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "command_line.h"
#include "ferrohsm/signer/config.h"
#include "ferrohsm/signer/http_api.h"
#include "ferrohsm/signer/http_server.h"
#include "ferrohsm/signer/metrics.h"
#include "ferrohsm/signer/provider_registry.h"
#include "ferrohsm/signer/rotation_service.h"
#include "ferrohsm/signer/seed_file.h"
#include "ferrohsm/signer/state_backend.h"

namespace fs = std::filesystem;
using namespace ferrohsm::signer;

namespace {
int fail(const std::string& message) {
  std::fprintf(stderr, "ferrohsm-signer: %s\n", message.c_str());
  return 2;
}

Status write_port_file(const std::string& path, int port) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) return Error::invalid("cannot write port file " + path);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Error::invalid("cannot write port file " + path + ": " + ec.message());
  return {};
}

Status ensure_parent_dir(const std::string& file) {
  fs::path parent = fs::path(file).parent_path();
  if (parent.empty()) return {};
  std::error_code ec;
  if (fs::exists(parent, ec)) return {};
  fs::create_directories(parent, ec);
  if (ec) return Error::invalid("cannot create directory " + parent.string() + ": " + ec.message());
  ::chmod(parent.c_str(), 0700);
  return {};
}
}  // namespace

int main(int argc, char** argv) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // before any thread starts
  signal(SIGPIPE, SIG_IGN);

  CommandLine cl = parse_command_line(argc, argv);
  if (cl.exit_now) {
    std::fputs(cl.output.c_str(), cl.exit_code == 0 ? stdout : stderr);
    return cl.exit_code;
  }
  Config& config = cl.config;

  spdlog::set_default_logger(spdlog::stderr_logger_mt("ferrohsm-signer"));
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  if (cl.pin_flag_used)
    spdlog::warn("--pkcs11-pin puts the PIN on the command line: for local development only; "
                 "mount it as a file and use --pkcs11-pin-file");

  // The provider first: a provider this binary lacks fails before anything is written.
  const ProviderInfo* info = find_provider(config.key_provider);
  if (info && info->availability == ProviderAvailability::kCompiled && config.key_provider == "software") {
    auto created = ensure_seed_file(config.providers.software_seed_file);
    if (!created) return fail(created.error().message);
    if (*created) spdlog::info("created a new software seed file {} (mode 0600)", config.providers.software_seed_file);
  }
  auto provider = make_provider(config.key_provider, config.providers);
  if (!provider) return fail(provider.error().message);

  if (config.state.backend == "sqlite")
    if (auto s = ensure_parent_dir(config.database); !s) return fail(s.error().message);
  auto state = StateBackend::open(config);
  if (!state) return fail(state.error().message);
  RotationService service(**provider, (*state)->store());
  if (auto s = service.load(); !s) return fail(s.error().message);
  if (auto s = (*state)->start(service); !s) return fail(s.error().message);
  // The listener updates the service: it stops before the service goes, on every return.
  struct StopState {
    StateBackend& backend;
    ~StopState() { backend.stop(); }
  } stop_state{**state};

  Metrics metrics;
  HttpApi api(service, **provider, metrics, ApiOptions{std::chrono::milliseconds(config.request_timeout_ms)});
  auto address = parse_listen_address(config.listen);
  if (!address) return fail(address.error().message);
  auto server = HttpServer::create(config.tls);
  if (!server) return fail(server.error().message);
  api.install((*server)->http());
  auto port = (*server)->bind(*address);
  if (!port) return fail(port.error().message);
  if (!config.port_file.empty())
    if (auto s = write_port_file(config.port_file, *port); !s) return fail(s.error().message);

  const char* scheme = (*server)->tls() ? "https" : "http";
  if (address->unix_socket)
    spdlog::info("listening on {} over Unix socket {} (provider {}, state {})", scheme, address->host,
                 config.key_provider, (*state)->describe());
  else
    spdlog::info("listening on {}://{}:{} (provider {}, state {})", scheme, address->host, *port,
                 config.key_provider, (*state)->describe());

  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    spdlog::info("stopping (signal {})", sig);
    api.cancel_in_flight();
    (*server)->stop();
  });
  (*server)->run();
  ::kill(::getpid(), SIGTERM);  // wakes the stopper if run() ended on its own
  stopper.join();
  return 0;
}
