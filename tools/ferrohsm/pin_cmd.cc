// `ferrohsm pin change [--so] | init | unlock`.
#include "commands.h"
#include "token_select.h"

#include <CLI/CLI.hpp>

namespace ferrohsm::cli {
namespace {

struct PinOptions {
  TokenOptions token;
  PinFiles pins;
  bool so = false;
};

Result<TokenRef> chosen_token(Context& ctx, const TokenOptions& o, const std::string& what) {
  FH_ASSIGN_OR_RETURN(std::optional<Pkcs11Uri> uri, parse_uri_option(o));
  auto t = select_token(ctx.hsm(), o, uri ? &*uri : nullptr);
  if (!t) return context(what, t.error());
  return t;
}

Status run_change(Context& ctx, const PinOptions& o) {
  const std::string what = o.so ? "pin change --so" : "pin change";
  FH_ASSIGN_OR_RETURN(TokenRef t, chosen_token(ctx, o.token, what));
  FH_ASSIGN_OR_RETURN(Secret old_pin, obtain_pin(o.so ? so_pin(o.pins) : user_pin(o.pins), what));
  FH_ASSIGN_OR_RETURN(Secret fresh, obtain_pin(new_pin(o.pins, o.so ? "new SO PIN" : "new user PIN"), what));
  auto session = login_session(ctx.hsm(), t.slot, true, o.so ? CKU_SO : CKU_USER, old_pin.view());
  if (!session) return context(what, session.error());
  if (Status s = ctx.hsm().set_pin(session->handle(), old_pin.view(), fresh.view()); !s)
    return context(what + " (C_SetPIN)", s.error());
  ctx.out().doc() = {{"slot", t.slot}, {"token", t.label}, {"changed", o.so ? "so" : "user"}};
  ctx.out().line(std::string(o.so ? "SO" : "user") + " PIN of token '" + t.label + "' changed");
  return {};
}

// `pin init` and `pin unlock`: the SO sets the user PIN (C_InitPIN), which also
// clears the user's failure counter and so the lock.
Status run_init(Context& ctx, const PinOptions& o, const std::string& what) {
  FH_ASSIGN_OR_RETURN(TokenRef t, chosen_token(ctx, o.token, what));
  FH_ASSIGN_OR_RETURN(Secret so, obtain_pin(so_pin(o.pins), what));
  FH_ASSIGN_OR_RETURN(Secret user, obtain_pin(user_pin(o.pins, true), what));
  auto session = login_session(ctx.hsm(), t.slot, true, CKU_SO, so.view());
  if (!session) return context(what, session.error());
  if (Status s = ctx.hsm().init_pin(session->handle(), user.view()); !s) return context(what + " (C_InitPIN)", s.error());
  ctx.out().doc() = {{"slot", t.slot}, {"token", t.label}, {"user_pin", "set"}};
  ctx.out().line("user PIN of token '" + t.label + "' set by the SO" + (what == "pin unlock" ? "; unlocked" : ""));
  return {};
}

}  // namespace

void register_pin_commands(CLI::App& app, Commands& cmds) {
  CLI::App* pin = app.add_subcommand("pin", "Change, initialise or unlock PINs");
  pin->require_subcommand(1);

  auto change = std::make_shared<PinOptions>();
  CLI::App* sub = pin->add_subcommand("change", "Change the user PIN (or with --so the SO PIN): old, then new");
  sub->add_flag("--so", change->so, "change the SO PIN");
  add_token_options(*sub, change->token);
  add_pin_options(*sub, change->pins, kUserPin | kSoPin | kNewPin);
  cmds.add(sub, [change](Context& ctx) { return run_change(ctx, *change); });

  for (const char* name : {"init", "unlock"}) {
    auto opts = std::make_shared<PinOptions>();
    std::string help = std::string(name) == "init" ? "The SO sets the user PIN (C_InitPIN)"
                                                    : "The SO re-initialises the user PIN, which clears the lock";
    sub = pin->add_subcommand(name, help);
    add_token_options(*sub, opts->token);
    add_pin_options(*sub, opts->pins, kUserPin | kSoPin);
    std::string what = std::string("pin ") + name;
    cmds.add(sub, [opts, what](Context& ctx) { return run_init(ctx, *opts, what); });
  }
}

}  // namespace ferrohsm::cli
