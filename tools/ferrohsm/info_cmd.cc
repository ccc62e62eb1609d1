// `ferrohsm info`: the configuration in use, the store, and every slot with its
// token (label, serial, flags) and object counts (all objects, and those visible
// without a login).
#include "commands.h"
#include "token_select.h"

#include <CLI/CLI.hpp>

namespace ferrohsm::cli {
namespace {

Result<size_t> public_object_count(App& hsm, CK_SLOT_ID slot) {
  FH_ASSIGN_OR_RETURN(SessionGuard s, open_session(hsm, slot, false));
  FH_TRY(hsm.find_init(s.handle(), AttrMap()));
  size_t n = 0;
  for (int round = 0; round < 1'000'000; ++round) {
    FH_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> batch, hsm.find_next(s.handle(), 256));
    if (batch.empty()) break;
    n += batch.size();
  }
  FH_TRY(hsm.find_final(s.handle()));
  return n;
}

Status run_info(Context& ctx) {
  App& hsm = ctx.hsm();
  const Config& cfg = ctx.config();
  Output& out = ctx.out();
  FH_ASSIGN_OR_RETURN(std::vector<TokenRef> slots, list_slots(hsm));
  std::string source = cfg.source.empty() ? "(none: built-in defaults)" : cfg.source;
  out.doc()["config"] = cfg.source;
  out.doc()["store"] = cfg.store_path;
  out.doc()["slots"] = nlohmann::json::array();
  out.line("config: " + source);
  out.line("store:  " + cfg.store_path);
  for (const TokenRef& t : slots) {
    nlohmann::json j = {{"slot", t.slot}, {"initialized", t.initialized}};
    if (!t.initialized) {
      out.line("slot " + std::to_string(t.slot) + ": free (no token; 'ferrohsm token init' uses it)");
      out.doc()["slots"].push_back(j);
      continue;
    }
    FH_ASSIGN_OR_RETURN(std::shared_ptr<Token> tok, hsm.keystore().token(t.slot));
    auto total = ctx.core().store().count_objects(tok->id());
    if (!total) return context("count the objects of token '" + t.label + "'", total.error());
    auto visible = public_object_count(hsm, t.slot);
    if (!visible) return context("count the public objects of token '" + t.label + "'", visible.error());
    nlohmann::json flags = token_flag_names(t.flags);
    j.update({{"label", t.label},
              {"serial", t.serial},
              {"flags", flags},
              {"objects", *total},
              {"public_objects", *visible}});
    out.doc()["slots"].push_back(j);
    std::string flag_text;
    for (const auto& f : flags) flag_text += (flag_text.empty() ? "" : ",") + f.get<std::string>();
    out.line("slot " + std::to_string(t.slot) + ": token '" + t.label + "' serial " + t.serial);
    out.line("  flags:   " + flag_text);
    out.line("  objects: " + std::to_string(*total) + " (" + std::to_string(*visible) + " public)");
  }
  return {};
}

}  // namespace

void register_info_command(CLI::App& app, Commands& cmds) {
  CLI::App* sub = app.add_subcommand("info", "Show the configuration, the store and every slot with its token");
  cmds.add(sub, run_info);
}

}  // namespace ferrohsm::cli
