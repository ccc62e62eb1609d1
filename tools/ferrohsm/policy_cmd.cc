// `ferrohsm policy check FILE`: validates the [[policy]] rules of a ferrohsm.toml (or a
// ferrohsm-server configuration) without a store — unknown keys, mechanism names, globs,
// rates, identities, key sizes, rules in conflict — and names each problem with its
// line (docs/POLICY.md). Exit 0 when the rules are sound, 2 (kExitUsage) otherwise.
#include "commands.h"
#include "core/config.h"
#include "core/policy_config.h"
#include "exit_codes.h"
#include "output.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace ferrohsm::cli {
namespace {

int check_file(const std::string& path, Output& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return out.fail(make_error(CKR_ARGUMENTS_BAD, path + ": cannot be read"));
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxConfigFileBytes) return out.fail(make_error(CKR_ARGUMENTS_BAD, path + ": too large"));
  Policy policy;
  std::vector<std::string> problems = check_policy_text(text.str(), path, &policy);
  out.doc() = {{"file", path}, {"rules", policy.rules.size()}, {"problems", problems}, {"valid", problems.empty()}};
  for (const std::string& p : problems) {
    if (!out.json()) std::cerr << path << ": " << p << "\n";
  }
  if (!problems.empty()) {
    if (out.json()) out.finish();
    return kExitUsage;
  }
  std::string names;
  for (const PolicyRule& r : policy.rules) names += (names.empty() ? "" : ", ") + r.name;
  out.line(path + ": " + std::to_string(policy.rules.size()) + " policy rules, valid" +
           (names.empty() ? std::string() : " (" + names + ")"));
  return out.finish();
}

}  // namespace

void register_policy_commands(CLI::App& app) {
  CLI::App* policy = app.add_subcommand("policy", "Check [[policy]] rules (docs/POLICY.md)");
  policy->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  CLI::App* check = policy->add_subcommand("check", "Validate the [[policy]] rules of a configuration file; each "
                                                    "problem is shown with its line");
  check->add_option("FILE", *file, "ferrohsm.toml or a ferrohsm-server configuration")->required();
  check->callback([file, &app] {
    Output out(app.get_option("--json")->count() > 0, std::cout, std::cerr);
    int code = check_file(*file, out);
    if (code != kExitOk) throw CLI::RuntimeError(code);
  });
}

}  // namespace ferrohsm::cli
