// The table of a benchmark run (see report.cc).
#pragma once

#include <string>

namespace p11bench {

int report(const std::string& results_file);

}  // namespace p11bench
