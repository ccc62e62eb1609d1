// `ferrohsm key list | generate | delete | import`.
#include "commands.h"
#include "key_common.h"
#include "keygen.h"
#include "base/pkcs11_uri.h"

#include <CLI/CLI.hpp>

namespace ferrohsm::cli {
namespace {

struct ListOptions {
  TokenOptions token;
  PinFiles pins;
};

struct DeleteOptions {
  TokenOptions token;
  PinFiles pins;
  std::string label;
  std::string id_hex;
  std::string type;
};

std::string text_of(const AttrMap& a, CK_ATTRIBUTE_TYPE t) { return std::string(as_chars(a.view(t))); }

// The search template from --label/--id/--type and the URI's object/id/type.
Result<AttrMap> selection(const std::optional<Pkcs11Uri>& uri, const std::string& label, const std::string& id_hex,
                          const std::string& type) {
  AttrMap tmpl;
  if (uri) {
    if (uri->object) tmpl.set(CKA_LABEL, as_bytes(*uri->object));
    if (uri->id) tmpl.set(CKA_ID, *uri->id);
    if (uri->type) tmpl.set_ulong(CKA_CLASS, *uri->type);
  }
  if (!label.empty()) tmpl.set(CKA_LABEL, as_bytes(label));
  if (!id_hex.empty()) {
    FH_ASSIGN_OR_RETURN(Bytes id, parse_id(id_hex));
    tmpl.set(CKA_ID, id);
  }
  if (!type.empty()) {
    auto cls = class_from_uri_type(type == "secret" ? "secret-key" : type);
    if (!cls) return make_error(CKR_ARGUMENTS_BAD, "--type '" + type + "': use private, public, secret, cert or data");
    tmpl.set_ulong(CKA_CLASS, *cls);
  }
  return tmpl;
}

Status run_list(Context& ctx, const ListOptions& o) {
  FH_ASSIGN_OR_RETURN(KeyTarget t, user_session(ctx, o.token, o.pins, false, "key list"));
  FH_ASSIGN_OR_RETURN(AttrMap tmpl, selection(t.uri, "", "", ""));
  FH_ASSIGN_OR_RETURN(std::vector<ObjectPtr> objs, find_objects(ctx.hsm(), t.handle(), tmpl));
  nlohmann::json arr = nlohmann::json::array();
  for (const ObjectPtr& obj : objs) {
    const AttrMap& a = obj->attrs();
    CK_OBJECT_CLASS cls = obj->cls();
    std::string label = text_of(a, CKA_LABEL);
    ByteView id = a.view(CKA_ID);
    nlohmann::json j = {{"class", class_name(cls)},
                        {"label", label},
                        {"id", to_hex(id)},
                        {"uri", format_object_uri(t.token.label, label, id, cls)}};
    if (auto kt = a.get_ulong(CKA_KEY_TYPE); kt && cls != CKO_CERTIFICATE && cls != CKO_DATA)
      j["key_type"] = key_type_name(*kt);
    if (CK_ULONG bits = key_bits(a)) j["bits"] = bits;
    std::string line = class_name(cls);
    line.resize(std::max<size_t>(line.size() + 1, 12), ' ');
    std::string kt = j.value("key_type", "-");
    line += kt + std::string(kt.size() < 15 ? 15 - kt.size() : 1, ' ');
    std::string bits = j.contains("bits") ? std::to_string(j["bits"].get<CK_ULONG>()) : "-";
    line += bits + std::string(bits.size() < 6 ? 6 - bits.size() : 1, ' ');
    line += "label=" + label + "  id=" + (id.empty() ? "-" : to_hex(id)) + "  " + j["uri"].get<std::string>();
    ctx.out().line(line);
    arr.push_back(std::move(j));
  }
  if (arr.empty()) ctx.out().line("no objects on token '" + t.token.label + "'");
  ctx.out().doc() = {{"token", t.token.label}, {"slot", t.token.slot}, {"objects", arr}};
  return {};
}

Status run_delete(Context& ctx, const DeleteOptions& o) {
  bool named = !o.label.empty() || !o.id_hex.empty();
  FH_ASSIGN_OR_RETURN(std::optional<Pkcs11Uri> uri, parse_uri_option(o.token));
  if (uri && (uri->object || uri->id)) named = true;
  if (!named) return make_error(CKR_ARGUMENTS_BAD, "key delete: name the objects with --label, --id or a URI's object/id");
  FH_ASSIGN_OR_RETURN(AttrMap tmpl, selection(uri, o.label, o.id_hex, o.type));
  FH_ASSIGN_OR_RETURN(KeyTarget t, user_session(ctx, o.token, o.pins, true, "key delete"));
  FH_ASSIGN_OR_RETURN(std::vector<ObjectPtr> objs, find_objects(ctx.hsm(), t.handle(), tmpl));
  if (objs.empty())
    return make_error(CKR_OBJECT_HANDLE_INVALID, "key delete: no object on token '" + t.token.label + "' matches");
  nlohmann::json arr = nlohmann::json::array();
  for (const ObjectPtr& obj : objs) {
    std::string label = text_of(obj->attrs(), CKA_LABEL);
    if (Status s = ctx.hsm().destroy_object(t.handle(), obj->handle()); !s)
      return context("key delete '" + label + "' (" + std::to_string(arr.size()) + " deleted before)", s.error());
    arr.push_back(object_summary(t.token, obj->cls(), label, obj->attrs().view(CKA_ID)));
  }
  ctx.out().doc() = {{"token", t.token.label}, {"deleted", arr.size()}, {"objects", arr}};
  ctx.out().line("deleted " + std::to_string(arr.size()) + " object" + (arr.size() == 1 ? "" : "s") + " from token '" +
                 t.token.label + "'");
  return {};
}

}  // namespace

void register_key_commands(CLI::App& app, Commands& cmds) {
  CLI::App* key = app.add_subcommand("key", "List, generate, delete and import keys and certificates");
  key->require_subcommand(1);

  auto list = std::make_shared<ListOptions>();
  CLI::App* sub = key->add_subcommand("list", "List the token's objects (logs in as user)");
  add_token_options(*sub, list->token);
  add_pin_options(*sub, list->pins, kUserPin);
  cmds.add(sub, [list](Context& ctx) { return run_list(ctx, *list); });

  auto gen = std::make_shared<GenerateOptions>();
  sub = key->add_subcommand("generate", "Generate a key pair or secret key on the token");
  sub->add_option("--type", gen->type, "key type")->required()->check(CLI::IsMember(key_spec_names()));
  sub->add_option("--label", gen->label, "CKA_LABEL")->required();
  sub->add_option("--id", gen->id_hex, "CKA_ID in hex (default: 8 random bytes)");
  add_token_options(*sub, gen->token);
  add_pin_options(*sub, gen->pins, kUserPin);
  cmds.add(sub, [gen](Context& ctx) { return run_generate(ctx, *gen); });

  auto del = std::make_shared<DeleteOptions>();
  sub = key->add_subcommand("delete", "Delete every object matching --label / --id (and --type)");
  sub->add_option("--label", del->label, "CKA_LABEL of the objects");
  sub->add_option("--id", del->id_hex, "CKA_ID of the objects, in hex");
  sub->add_option("--type", del->type, "only objects of this class: private, public, secret, cert, data");
  add_token_options(*sub, del->token);
  add_pin_options(*sub, del->pins, kUserPin);
  cmds.add(sub, [del](Context& ctx) { return run_delete(ctx, *del); });

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
