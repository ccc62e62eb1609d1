// `ferrohsm info`: the configuration in use, the store, and every slot with its
// token (label, serial, flags) and object counts (all objects, and those visible
// without a login). With --server: the server and the tokens it lets you see (the REST
// API shows no counts and no flag but token-initialized).
#include "backend.h"
#include "commands.h"
#include "token_select.h"

#include <CLI/CLI.hpp>

namespace ferrohsm::cli {
namespace {

Status run_info(Context& ctx) {
  Backend& hsm = ctx.backend();
  Output& out = ctx.out();
  FH_ASSIGN_OR_RETURN(std::vector<TokenRef> slots, hsm.tokens());
  const std::string config = hsm.config_source();
  std::string source = !config.empty() ? config : hsm.remote() ? "(none: --server)" : "(none: built-in defaults)";
  out.doc()["config"] = config;
  out.doc()["store"] = hsm.store();
  out.doc()["slots"] = nlohmann::json::array();
  out.line("config: " + source);
  out.line("store:  " + hsm.store());
  for (const TokenRef& t : slots) {
    nlohmann::json j = {{"slot", t.slot}, {"initialized", t.initialized}};
    if (!t.initialized) {
      out.line("slot " + std::to_string(t.slot) + ": free (no token; 'ferrohsm token init' uses it)");
      out.doc()["slots"].push_back(j);
      continue;
    }
    FH_ASSIGN_OR_RETURN(std::optional<ObjectCounts> counts, hsm.object_counts(t));
    nlohmann::json flags = token_flag_names(t.flags);
    j.update({{"label", t.label}, {"serial", t.serial}, {"flags", flags}});
    if (counts) j.update({{"objects", counts->all}, {"public_objects", counts->visible}});
    out.doc()["slots"].push_back(j);
    std::string flag_text;
    for (const auto& f : flags) flag_text += (flag_text.empty() ? "" : ",") + f.get<std::string>();
    out.line("slot " + std::to_string(t.slot) + ": token '" + t.label + "' serial " + t.serial);
    out.line("  flags:   " + flag_text);
    if (counts) out.line("  objects: " + std::to_string(counts->all) + " (" + std::to_string(counts->visible) + " public)");
  }
  return {};
}

}  // namespace

void register_info_command(CLI::App& app, Commands& cmds) {
  CLI::App* sub = app.add_subcommand("info", "Show the configuration, the store and every slot with its token");
  cmds.add(sub, run_info, Remote::Yes);
}

}  // namespace ferrohsm::cli
