#include "base/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <memory>
#include <mutex>

namespace ferrohsm {
namespace {

std::mutex g_mu;
std::shared_ptr<spdlog::logger> g_logger;  // replaced under g_mu; readers keep their copy alive
std::atomic<spdlog::logger*> g_current{nullptr};

std::shared_ptr<spdlog::logger> make_stderr() {
  auto l = std::make_shared<spdlog::logger>("ferrohsm", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  l->set_pattern("%Y-%m-%dT%H:%M:%S.%e ferrohsm[%P] %l: %v");
  l->set_level(spdlog::level::warn);
  return l;
}

// Loggers are kept until exit: a thread may still hold the old pointer while it logs.
std::vector<std::shared_ptr<spdlog::logger>>& retired() {
  static auto* v = new std::vector<std::shared_ptr<spdlog::logger>>();
  return *v;
}

}  // namespace

bool configure_logging(const std::string& level, const std::string& destination, std::string* why) {
  std::shared_ptr<spdlog::logger> l;
  bool ok = true;
  if (destination == "stderr") {
    l = make_stderr();
  } else {
    try {
      l = std::make_shared<spdlog::logger>(
          "ferrohsm", std::make_shared<spdlog::sinks::basic_file_sink_mt>(destination, false));
      l->set_pattern("%Y-%m-%dT%H:%M:%S.%e ferrohsm[%P] %l: %v");
    } catch (const spdlog::spdlog_ex& e) {
      if (why) *why = std::string("log file ") + destination + " cannot be opened: " + e.what();
      l = make_stderr();
      ok = false;
    }
  }
  l->set_level(spdlog::level::from_str(level));
  l->flush_on(spdlog::level::debug);
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_logger) retired().push_back(g_logger);
  g_logger = l;
  g_current.store(l.get());
  return ok;
}

spdlog::logger& log() {
  spdlog::logger* l = g_current.load();
  if (l != nullptr) return *l;
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_logger) {
    g_logger = make_stderr();
    g_current.store(g_logger.get());
  }
  return *g_logger;
}

}  // namespace ferrohsm
