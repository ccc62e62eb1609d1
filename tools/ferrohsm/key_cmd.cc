// `ferrohsm key list | show | generate | delete | public | import`. All but import
// work through the backend (backend.h): on the store, or with --server through REST.
#include "backend.h"
#include "commands.h"
#include "key_common.h"
#include "keygen.h"
#include "byte_io.h"
#include "base/pkcs11_uri.h"

#include <CLI/CLI.hpp>

namespace ferrohsm::cli {
namespace {

struct SelectOptions {
  TokenOptions token;
  PinFiles pins;
  std::string label;
  std::string id;
  std::string type;
};

struct PublicOptions {
  SelectOptions sel;
  std::string out;
  bool der = false;
};

Result<KeySelector> selector(const SelectOptions& o) {
  KeySelector sel;
  FH_ASSIGN_OR_RETURN(sel.uri, parse_uri_option(o.token));
  sel.label = o.label;
  sel.id = o.id;
  if (!o.type.empty()) {
    auto cls = class_from_uri_type(o.type == "secret" ? "secret-key" : o.type);
    if (!cls) return make_error(CKR_ARGUMENTS_BAD, "--type '" + o.type + "': use private, public, secret, cert or data");
    sel.cls = *cls;
  }
  return sel;
}

// {"class", "label", "id", "uri"}: what generate and delete print of each object.
nlohmann::json summary(const KeyEntry& e) {
  return {{"class", class_name(e.cls)}, {"label", e.label}, {"id", e.id}, {"uri", e.uri}};
}

// Lists the objects `sel` matches, one line each (`key list` and `key show`).
Status print_objects(Context& ctx, const SelectOptions& o, bool need_one, const std::string& what) {
  FH_ASSIGN_OR_RETURN(KeySelector sel, selector(o));
  if (need_one && sel.empty()) return make_error(CKR_ARGUMENTS_BAD, what + ": name the key with --label or --id");
  FH_ASSIGN_OR_RETURN(std::unique_ptr<KeyService> keys, ctx.backend().login(o.token, o.pins, false, what));
  auto objs = keys->list(sel);
  if (!objs) return context(what, objs.error());
  const TokenRef& t = keys->token();
  if (need_one && objs->empty())
    return make_error(CKR_OBJECT_HANDLE_INVALID, what + ": no object on token '" + t.label + "' matches");
  nlohmann::json arr = nlohmann::json::array();
  for (const KeyEntry& e : *objs) {
    nlohmann::json j = summary(e);
    if (e.key_type) j["key_type"] = key_type_name(*e.key_type);
    if (e.bits != 0) j["bits"] = e.bits;
    std::string line = class_name(e.cls);
    line.resize(std::max<size_t>(line.size() + 1, 12), ' ');
    std::string kt = j.value("key_type", "-");
    line += kt + std::string(kt.size() < 15 ? 15 - kt.size() : 1, ' ');
    std::string bits = e.bits != 0 ? std::to_string(e.bits) : "-";
    line += bits + std::string(bits.size() < 6 ? 6 - bits.size() : 1, ' ');
    line += "label=" + e.label + "  id=" + (e.id.empty() ? "-" : e.id) + "  " + e.uri;
    ctx.out().line(line);
    arr.push_back(std::move(j));
  }
  if (arr.empty()) ctx.out().line("no objects on token '" + t.label + "'");
  ctx.out().doc() = {{"token", t.label}, {"slot", t.slot}, {"objects", arr}};
  return {};
}

Status run_generate(Context& ctx, const GenerateOptions& o) {
  const KeySpec* spec = find_key_spec(o.type);
  if (spec == nullptr) return make_error(CKR_ARGUMENTS_BAD, "key generate: unknown --type '" + o.type + "'");
  if (o.label.empty()) return make_error(CKR_ARGUMENTS_BAD, "key generate: --label must not be empty");
  FH_TRY(parse_id(o.id_hex));
  FH_ASSIGN_OR_RETURN(std::unique_ptr<KeyService> keys, ctx.backend().login(o.token, o.pins, true, "key generate"));
  auto made = keys->generate(*spec, o.label, o.id_hex);
  if (!made) return context("key generate", made.error());
  nlohmann::json arr = nlohmann::json::array();
  for (const KeyEntry& e : *made) {
    arr.push_back(summary(e));
    ctx.out().line("generated " + class_name(e.cls) + "  " + e.uri);
  }
  ctx.out().doc() = {{"token", keys->token().label}, {"type", o.type}, {"objects", arr}};
  return {};
}

Status run_delete(Context& ctx, const SelectOptions& o) {
  FH_ASSIGN_OR_RETURN(KeySelector sel, selector(o));
  if (sel.empty()) return make_error(CKR_ARGUMENTS_BAD, "key delete: name the objects with --label, --id or a URI's object/id");
  FH_ASSIGN_OR_RETURN(std::unique_ptr<KeyService> keys, ctx.backend().login(o.token, o.pins, true, "key delete"));
  const TokenRef& t = keys->token();
  auto objs = keys->list(sel);
  if (!objs) return context("key delete", objs.error());
  if (objs->empty()) return make_error(CKR_OBJECT_HANDLE_INVALID, "key delete: no object on token '" + t.label + "' matches");
  nlohmann::json arr = nlohmann::json::array();
  for (const KeyEntry& e : *objs) {
    if (Status s = keys->remove(e); !s)
      return context("key delete '" + e.label + "' (" + std::to_string(arr.size()) + " deleted before)", s.error());
    arr.push_back(summary(e));
  }
  ctx.out().doc() = {{"token", t.label}, {"deleted", arr.size()}, {"objects", arr}};
  ctx.out().line("deleted " + std::to_string(arr.size()) + " object" + (arr.size() == 1 ? "" : "s") + " from token '" +
                 t.label + "'");
  return {};
}

// `key public`: the SubjectPublicKeyInfo as PEM (or DER) to --out or stdout.
Status run_public(Context& ctx, const PublicOptions& o) {
  FH_ASSIGN_OR_RETURN(KeySelector sel, selector(o.sel));
  if (sel.empty()) return make_error(CKR_ARGUMENTS_BAD, "key public: name the key with --label or --id");
  FH_ASSIGN_OR_RETURN(std::unique_ptr<KeyService> keys, ctx.backend().login(o.sel.token, o.sel.pins, false, "key public"));
  auto spki = keys->public_key(sel);
  if (!spki) return context("key public", spki.error());
  const std::string pem = pem_block("PUBLIC KEY", *spki);
  Bytes bytes = o.der ? *spki : Bytes(pem.begin(), pem.end());
  ctx.out().doc() = {{"token", keys->token().label}, {"format", o.der ? "der" : "pem"}, {"bytes", bytes.size()}};
  if (!o.out.empty()) {
    FH_TRY(write_output(o.out, bytes));
    ctx.out().doc()["out"] = o.out;
    ctx.out().line("wrote the public key (" + std::string(o.der ? "DER" : "PEM") + ", " + std::to_string(bytes.size()) +
                   " bytes) to " + o.out);
  } else if (ctx.out().json()) {
    ctx.out().doc()["pem"] = pem;
  } else {
    FH_TRY(write_output("-", bytes));
  }
  return {};
}

void add_select_options(CLI::App& sub, SelectOptions& o, bool with_type) {
  sub.add_option("--label", o.label, "CKA_LABEL of the key");
  sub.add_option("--id", o.id, "the id `key list` shows: CKA_ID in hex (embedded) or the REST key id (--server)");
  if (with_type) sub.add_option("--type", o.type, "only objects of this class: private, public, secret, cert, data");
  add_token_options(sub, o.token);
  add_pin_options(sub, o.pins, kUserPin);
}

}  // namespace

void register_key_commands(CLI::App& app, Commands& cmds) {
  CLI::App* key = app.add_subcommand("key", "List, generate, delete and import keys and certificates");
  key->require_subcommand(1);

  auto list = std::make_shared<SelectOptions>();
  CLI::App* sub = key->add_subcommand("list", "List the token's objects (logs in as user)");
  add_token_options(*sub, list->token);
  add_pin_options(*sub, list->pins, kUserPin);
  cmds.add(sub, [list](Context& ctx) { return print_objects(ctx, *list, false, "key list"); }, Remote::Yes);

  auto show = std::make_shared<SelectOptions>();
  sub = key->add_subcommand("show", "Show the objects --label / --id name (as key list shows them)");
  add_select_options(*sub, *show, true);
  cmds.add(sub, [show](Context& ctx) { return print_objects(ctx, *show, true, "key show"); }, Remote::Yes);

  auto gen = std::make_shared<GenerateOptions>();
  sub = key->add_subcommand("generate", "Generate a key pair or secret key on the token");
  sub->add_option("--type", gen->type, "key type")->required()->check(CLI::IsMember(key_spec_names()));
  sub->add_option("--label", gen->label, "CKA_LABEL")->required();
  sub->add_option("--id", gen->id_hex, "CKA_ID in hex (default: 8 random bytes; not with --server)");
  add_token_options(*sub, gen->token);
  add_pin_options(*sub, gen->pins, kUserPin);
  cmds.add(sub, [gen](Context& ctx) { return run_generate(ctx, *gen); }, Remote::Yes);

  auto del = std::make_shared<SelectOptions>();
  sub = key->add_subcommand("delete", "Delete every object matching --label / --id (and --type)");
  add_select_options(*sub, *del, true);
  cmds.add(sub, [del](Context& ctx) { return run_delete(ctx, *del); }, Remote::Yes);

  auto pub = std::make_shared<PublicOptions>();
  sub = key->add_subcommand("public", "Export a key's public key (SubjectPublicKeyInfo) as PEM or DER");
  add_select_options(*sub, pub->sel, false);
  sub->add_option("--out", pub->out, "file to write (default: stdout)");
  sub->add_flag("--der", pub->der, "DER instead of PEM");
  cmds.add(sub, [pub](Context& ctx) { return run_public(ctx, *pub); }, Remote::Yes);

  auto imp = std::make_shared<ImportOptions>();
  sub = key->add_subcommand("import", "Import a PKCS#8 private key, a public key or an X.509 certificate (PEM/DER)");
  sub->add_option("--file", imp->file, "the file to import")->required();
  sub->add_option("--label", imp->label, "CKA_LABEL")->required();
  sub->add_option("--id", imp->id_hex, "CKA_ID in hex (default: SHA-1 of the public key info)");
  add_token_options(*sub, imp->token);
  add_pin_options(*sub, imp->pins, kUserPin);
  cmds.add(sub, [imp](Context& ctx) { return run_import(ctx, *imp); });
}

}  // namespace ferrohsm::cli
