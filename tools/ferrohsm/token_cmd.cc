// `ferrohsm token init | list | delete`.
#include "backend.h"
#include "commands.h"
#include "token_select.h"

#include <CLI/CLI.hpp>

namespace ferrohsm::cli {
namespace {

constexpr size_t kLabelBytes = 32;  // CK_TOKEN_INFO.label

struct InitOptions {
  std::string label;
  std::optional<CK_SLOT_ID> slot;
  PinFiles pins;
};

nlohmann::json token_json(const TokenRef& t) {
  return {{"slot", t.slot}, {"label", t.label}, {"serial", t.serial}, {"flags", token_flag_names(t.flags)}};
}

Status run_init(Context& ctx, const InitOptions& o) {
  App& hsm = ctx.hsm();
  if (o.label.empty() || o.label.size() > kLabelBytes)
    return make_error(CKR_ARGUMENTS_BAD, "token init: the label must be 1 to 32 bytes");
  FH_ASSIGN_OR_RETURN(std::vector<TokenRef> slots, list_slots(hsm));
  CK_SLOT_ID slot = slots.back().slot;  // the free slot
  for (const TokenRef& t : slots) {
    if (t.initialized && t.label == o.label && (!o.slot || *o.slot != t.slot))
      return make_error(CKR_ARGUMENTS_BAD,
                        "token init: a token labelled '" + o.label + "' exists in slot " + std::to_string(t.slot));
  }
  if (o.slot) slot = *o.slot;
  // Both PINs first, so that nothing changes when the second cannot be had.
  FH_ASSIGN_OR_RETURN(Secret so, obtain_pin(so_pin(o.pins, true), "token init"));
  FH_ASSIGN_OR_RETURN(Secret user, obtain_pin(user_pin(o.pins, true), "token init"));
  // The user PIN is set after the token exists: check it first so that a bad one
  // does not leave a token without a user PIN.
  const Config& cfg = ctx.config();
  if (user.size() < cfg.pin_min_length || user.size() > cfg.pin_max_length)
    return make_error(CKR_PIN_LEN_RANGE, "token init: the user PIN must have " + std::to_string(cfg.pin_min_length) +
                                             " to " + std::to_string(cfg.pin_max_length) + " characters");
  if (Status s = hsm.init_token(slot, so.view(), o.label); !s) return context("token init (C_InitToken)", s.error());
  {
    auto session = login_session(hsm, slot, true, CKU_SO, so.view());
    if (!session) return context("token init", session.error());
    if (Status s = hsm.init_pin(session->handle(), user.view()); !s) return context("token init (C_InitPIN)", s.error());
  }
  FH_ASSIGN_OR_RETURN(std::vector<TokenRef> after, list_slots(hsm));
  for (const TokenRef& t : after) {
    if (t.slot != slot) continue;
    ctx.out().doc() = token_json(t);
    ctx.out().line("initialised token '" + t.label + "' in slot " + std::to_string(t.slot) + " (serial " + t.serial +
                   "); SO and user PINs set");
  }
  return {};
}

Status run_list(Context& ctx) {
  FH_ASSIGN_OR_RETURN(std::vector<TokenRef> slots, ctx.backend().tokens());
  nlohmann::json arr = nlohmann::json::array();
  for (const TokenRef& t : slots) {
    if (!t.initialized) continue;
    arr.push_back(token_json(t));
    ctx.out().line("slot " + std::to_string(t.slot) + "  " + t.label + "  serial " + t.serial +
                   ((t.flags & CKF_USER_PIN_LOCKED) ? "  (user PIN locked)" : ""));
  }
  if (arr.empty()) ctx.out().line("no tokens; create one with 'ferrohsm token init --label L'");
  ctx.out().doc()["tokens"] = arr;
  return {};
}

Status run_delete(Context& ctx, const TokenOptions& o, const PinFiles& pins) {
  App& hsm = ctx.hsm();
  if (o.slot == std::nullopt && o.token.empty() && o.uri.empty())
    return make_error(CKR_ARGUMENTS_BAD, "token delete: name the token with --token, --slot or --uri");
  FH_ASSIGN_OR_RETURN(std::optional<Pkcs11Uri> uri, parse_uri_option(o));
  auto t = select_token(hsm, o, uri ? &*uri : nullptr);
  if (!t) return context("token delete", t.error());
  FH_ASSIGN_OR_RETURN(Secret so, obtain_pin(so_pin(pins), "token delete"));
  {
    // The SO PIN confirms the deletion; the session closes before the token goes.
    auto session = login_session(hsm, t->slot, true, CKU_SO, so.view());
    if (!session) return context("token delete", session.error());
  }
  if (Status s = hsm.delete_token(t->slot); !s) return context("token delete", s.error());
  ctx.out().doc() = {{"deleted", token_json(*t)}};
  ctx.out().line("deleted token '" + t->label + "' (slot " + std::to_string(t->slot) + ", serial " + t->serial + ")");
  return {};
}

}  // namespace

void register_token_commands(CLI::App& app, Commands& cmds) {
  CLI::App* token = app.add_subcommand("token", "Initialise, list and delete tokens");
  token->require_subcommand(1);

  auto init = std::make_shared<InitOptions>();
  CLI::App* sub = token->add_subcommand("init", "Initialise a token and set its SO and user PINs");
  sub->add_option("--label", init->label, "token label (at most 32 bytes)")->required();
  sub->add_option("--slot", init->slot, "slot to initialise (default: the free slot)");
  add_pin_options(*sub, init->pins, kUserPin | kSoPin);
  cmds.add(sub, [init](Context& ctx) { return run_init(ctx, *init); });

  sub = token->add_subcommand("list", "List the initialised tokens");
  cmds.add(sub, run_list, Remote::Yes);

  auto sel = std::make_shared<TokenOptions>();
  auto pins = std::make_shared<PinFiles>();
  sub = token->add_subcommand("delete", "Delete a token and all its objects (asks the SO PIN)");
  add_token_options(*sub, *sel);
  add_pin_options(*sub, *pins, kSoPin);
  cmds.add(sub, [sel, pins](Context& ctx) { return run_delete(ctx, *sel, *pins); });
}

}  // namespace ferrohsm::cli
