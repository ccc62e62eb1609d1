// FerroHSM's one logger. Messages name what happened and its CKR_* code; they never
// carry a PIN, a key byte or any other secret (values of sensitive attributes are
// never formatted anywhere).
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace ferrohsm {

// Points the logger at `destination` ("stderr" or a file path) with `level`
// (off|error|warn|info|debug|trace). Returns false and leaves the logger on stderr
// when the file cannot be opened.
bool configure_logging(const std::string& level, const std::string& destination, std::string* why = nullptr);

spdlog::logger& log();

}  // namespace ferrohsm
