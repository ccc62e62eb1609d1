#include "cli_fixture.h"

namespace ferrohsm::cli::test {

std::string describe(const RunResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

void CliTest::SetUp() {
  conf_ = dir_.write("ferrohsm.toml", "[store]\npath = \"" + dir_.file("store.db") +
                                          "\"\n[pin]\nkdf_iterations = 1000\nmax_failed_logins = 3\n"
                                          "[dev]\nallow_weak_kdf = true\n");
}

RunResult CliTest::run(const std::vector<std::string>& args, std::map<std::string, std::string> env) {
  env["FERROHSM_CONF"] = conf_;
  for (const char* v : {"FERROHSM_PIN", "FERROHSM_SO_PIN", "FERROHSM_NEW_PIN"}) env.try_emplace(v, "");
  RunResult r = run_program(FERROHSM_CLI_PATH, args, env);
  for (const std::string& s : secrets_) {
    EXPECT_EQ(r.out.find(s), std::string::npos) << "a PIN was printed on stdout";
    EXPECT_EQ(r.err.find(s), std::string::npos) << "a PIN was printed on stderr";
  }
  return r;
}

RunResult CliTest::run_tty(const std::vector<std::string>& args, const std::vector<Exchange>& script) {
  std::map<std::string, std::string> env = {
      {"FERROHSM_CONF", conf_}, {"FERROHSM_PIN", ""}, {"FERROHSM_SO_PIN", ""}, {"FERROHSM_NEW_PIN", ""}};
  RunResult r = run_on_terminal(FERROHSM_CLI_PATH, args, env, script);
  for (const std::string& s : secrets_) EXPECT_EQ(r.out.find(s), std::string::npos) << "a PIN was echoed";
  return r;
}

RunResult CliTest::run_with_pins(const std::vector<std::string>& args, const std::string& user, const std::string& so) {
  return run(args, {{"FERROHSM_PIN", user}, {"FERROHSM_SO_PIN", so}});
}

nlohmann::json CliTest::json_ok(const std::vector<std::string>& args, const std::string& user) {
  std::vector<std::string> a = args;
  a.push_back("--json");
  RunResult r = run_with_pins(a, user);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  try {
    return nlohmann::json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not JSON: " << e.what() << "\n" << describe(r);
    return nullptr;
  }
}

void CliTest::init_token(const std::string& label) {
  RunResult r = run_with_pins({"token", "init", "--label", label});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
}

}  // namespace ferrohsm::cli::test
