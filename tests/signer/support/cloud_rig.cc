#include "support/cloud_rig.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace ferrohsm::signer::testing {

struct LogCapture::Impl {
  std::ostringstream out;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink;
  std::shared_ptr<spdlog::logger> previous;
};

LogCapture::LogCapture() : impl_(std::make_unique<Impl>()) {
  impl_->sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(impl_->out);
  impl_->previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("capture", impl_->sink);
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

LogCapture::~LogCapture() { spdlog::set_default_logger(impl_->previous); }

std::string LogCapture::text() const {
  impl_->sink->flush();
  return impl_->out.str();
}

}  // namespace ferrohsm::signer::testing
