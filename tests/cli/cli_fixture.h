// A fresh store for each end-to-end test: a temporary FERROHSM_CONF with
// [store] path, a cheap KDF ([pin] kdf_iterations = 1000, [dev] allow_weak_kdf),
// and helpers that run the built `ferrohsm` binary and check no PIN leaks out.
#pragma once

#include "run_tool.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace ferrohsm::cli::test {

inline constexpr const char* kSoPin = "so-pin-4321";
inline constexpr const char* kUserPin = "user-pin-1234";

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // Runs the tool with FERROHSM_CONF set and the given extra environment.
  RunResult run(const std::vector<std::string>& args, std::map<std::string, std::string> env = {});
  // On a pseudo-terminal, answering the prompts (no PIN in the environment).
  RunResult run_tty(const std::vector<std::string>& args, const std::vector<Exchange>& script);
  // With both PINs in the environment.
  RunResult run_with_pins(const std::vector<std::string>& args, const std::string& user = kUserPin,
                          const std::string& so = kSoPin);
  // Runs with --json and PINs, expects success and returns the parsed document.
  nlohmann::json json_ok(const std::vector<std::string>& args, const std::string& user = kUserPin);
  // token init --label `label` with the default PINs; expects success.
  void init_token(const std::string& label);

  TempDir dir_;
  std::string conf_;
  std::vector<std::string> secrets_ = {kSoPin, kUserPin};  // never to be printed
};

std::string describe(const RunResult& r);

}  // namespace ferrohsm::cli::test
