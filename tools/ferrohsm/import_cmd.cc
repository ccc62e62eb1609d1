// `ferrohsm key import`: creates the objects read from the file as token objects;
// when one of them fails, those already created are destroyed again.
#include "core/key_import.h"
#include "key_common.h"
#include "keygen.h"

namespace ferrohsm::cli {

Status run_import(Context& ctx, const ImportOptions& o) {
  if (o.label.empty()) return make_error(CKR_ARGUMENTS_BAD, "key import: --label must not be empty");
  FH_ASSIGN_OR_RETURN(Bytes id, parse_id(o.id_hex));
  FH_ASSIGN_OR_RETURN(ImportedObjects file, read_import_file(o.file));
  if (id.empty()) id = file.default_id;
  FH_ASSIGN_OR_RETURN(KeyTarget t, user_session(ctx, o.token, o.pins, true, "key import"));
  App& hsm = ctx.hsm();
  std::vector<CK_OBJECT_HANDLE> created;
  nlohmann::json made = nlohmann::json::array();
  for (AttrMap& obj : file.objects) {
    set_storage(obj, o.label, id);
    CK_OBJECT_CLASS cls = obj.get_ulong(CKA_CLASS).value_or(CKO_DATA);
    const CK_KEY_TYPE kt = obj.get_ulong(CKA_KEY_TYPE).value_or(CKK_GENERIC_SECRET);
    if (cls == CKO_PRIVATE_KEY) set_private_usage(obj, kt);
    if (cls == CKO_PUBLIC_KEY) set_public_usage(obj, kt);
    auto h = hsm.create_object(t.handle(), obj);
    if (!h) {
      for (CK_OBJECT_HANDLE done : created) (void)hsm.destroy_object(t.handle(), done);
      return context("key import " + file.kind + " (C_CreateObject " + class_name(cls) + ")", h.error());
    }
    created.push_back(*h);
    made.push_back(object_summary(t.token, cls, o.label, id));
  }
  ctx.out().doc() = {{"token", t.token.label}, {"kind", file.kind}, {"objects", made}};
  for (const auto& j : made)
    ctx.out().line("imported " + j["class"].get<std::string>() + "  " + j["uri"].get<std::string>());
  return {};
}

}  // namespace ferrohsm::cli
