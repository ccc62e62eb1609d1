// The two backends a Context opens (backend.h): the store itself, or a server's REST API.
#pragma once

#include "backend.h"
#include "context.h"

#include <memory>

namespace ferrohsm::cli {

std::unique_ptr<Backend> make_embedded_backend(Context& ctx);

// Checks the options and files; connects lazily (the first request makes the TLS
// connection, which then stays open for the command's other requests).
Result<std::unique_ptr<Backend>> make_rest_backend(const RemoteOptions& o);

}  // namespace ferrohsm::cli
