// `ferrohsm sign | verify | encrypt | decrypt`: one operation with one key of the token,
// embedded or with --server through REST (backend.h). Input from --in (or stdin),
// output to --out (or stdout), bytes unchanged; with --json and no --out the result is
// in the document, base64url. Mechanisms are named as in PKCS#11 and the REST API
// (crypto_mech.h); AES-GCM and AES-CBC put their IV in front of the ciphertext.
#include "backend.h"
#include "byte_io.h"
#include "commands.h"
#include "crypto_mech.h"

#include "base/base64.h"
#include "base/names.h"

#include <CLI/CLI.hpp>

namespace ferrohsm::cli {
namespace {

enum class Op { Sign, Verify, Encrypt, Decrypt };

struct CryptoOptions {
  TokenOptions token;
  PinFiles pins;
  std::string label;
  std::string id;
  std::string mechanism;
  std::string in = "-";
  std::string out = "-";
  std::string signature;  // verify
};

const char* name_of(Op op) {
  switch (op) {
    case Op::Sign: return "sign";
    case Op::Verify: return "verify";
    case Op::Encrypt: return "encrypt";
    case Op::Decrypt: return "decrypt";
  }
  return "?";
}

// Writes the result (or puts it in the JSON document) and says where it went.
Status emit(Context& ctx, const CryptoOptions& o, const char* field, ByteView bytes) {
  ctx.out().doc()["bytes"] = bytes.size();
  if (o.out != "-") {
    FH_TRY(write_output(o.out, bytes));
    ctx.out().doc()["out"] = o.out;
    ctx.out().line(std::string(field) + ": " + std::to_string(bytes.size()) + " bytes written to " + o.out);
    return {};
  }
  if (ctx.out().json()) {
    ctx.out().doc()[field] = to_base64url(bytes);
    return {};
  }
  return write_output("-", bytes);
}

Status run(Context& ctx, const CryptoOptions& o, Op op) {
  const std::string what = name_of(op);
  CryptoMech m;
  auto type = cli_mechanism(o.mechanism);
  if (!type) return context(what, type.error());
  m.type = *type;
  if (o.label.empty() && o.id.empty()) return make_error(CKR_ARGUMENTS_BAD, what + ": name the key with --label or --id");
  KeySelector sel;
  sel.label = o.label;
  sel.id = o.id;
  FH_ASSIGN_OR_RETURN(sel.uri, parse_uri_option(o.token));
  auto input = read_input(o.in);
  if (!input) return context(what, input.error());
  Bytes sig;
  if (op == Op::Verify) {
    auto s = read_input(o.signature);
    if (!s) return context(what + ": --signature", s.error());
    sig = std::move(*s);
  }
  FH_ASSIGN_OR_RETURN(std::unique_ptr<KeyService> keys, ctx.backend().login(o.token, o.pins, false, what));
  const std::string mech = mechanism_name(m.type);
  const std::string on = mech + " with " + (o.id.empty() ? "key '" + o.label + "'" : "key id " + o.id) +
                         " on token '" + keys->token().label + "'";
  ctx.out().doc() = {{"token", keys->token().label},
                     {"key", {{"label", o.label}, {"id", o.id}}},
                     {"mechanism", mech},
                     {"operation", what}};
  switch (op) {
    case Op::Sign: {
      auto r = keys->sign(sel, m, *input);
      if (!r) return context("sign (" + on + ")", r.error());
      return emit(ctx, o, "signature", *r);
    }
    case Op::Verify: {
      auto r = keys->verify(sel, m, *input, sig);
      if (!r) return context("verify (" + on + ")", r.error());
      if (!*r) return make_error(CKR_SIGNATURE_INVALID, "verify: the signature does not match the data (" + on + ")");
      ctx.out().doc()["valid"] = true;
      ctx.out().line("signature valid (" + on + ")");
      return {};
    }
    case Op::Encrypt: {
      auto r = keys->encrypt(sel, m, *input);
      if (!r) return context("encrypt (" + on + ")", r.error());
      Bytes out = m.iv;  // empty for mechanisms without an IV
      out.insert(out.end(), r->begin(), r->end());
      return emit(ctx, o, "ciphertext", out);
    }
    case Op::Decrypt: {
      ByteView in = *input;
      if (size_t n = iv_length(m.type); n != 0) {
        if (in.size() < n)
          return make_error(CKR_ENCRYPTED_DATA_LEN_RANGE,
                            "decrypt: " + mech + " input starts with its " + std::to_string(n) + "-byte IV; " +
                                std::to_string(in.size()) + " bytes is too short");
        m.iv.assign(in.begin(), in.begin() + static_cast<ptrdiff_t>(n));
        in = in.subspan(n);
      }
      auto r = keys->decrypt(sel, m, in);
      if (!r) return context("decrypt (" + on + ")", r.error());
      return emit(ctx, o, "plaintext", *r);
    }
  }
  return {};
}

void add(CLI::App& app, Commands& cmds, Op op, const char* help) {
  auto o = std::make_shared<CryptoOptions>();
  CLI::App* sub = app.add_subcommand(name_of(op), help);
  sub->add_option("--label", o->label, "CKA_LABEL of the key");
  sub->add_option("--id", o->id, "the id `key list` shows: CKA_ID in hex (embedded) or the REST key id (--server)");
  sub->add_option("--mechanism", o->mechanism, "PKCS#11 mechanism, e.g. ECDSA_SHA256, EDDSA, SHA256_RSA_PKCS_PSS, AES_GCM")
      ->required();
  sub->add_option("--in", o->in, "input file (default: stdin)");
  if (op == Op::Verify) {
    sub->add_option("--signature", o->signature, "file holding the signature")->required();
  } else {
    sub->add_option("--out", o->out, "output file (default: stdout)");
  }
  add_token_options(*sub, o->token);
  add_pin_options(*sub, o->pins, kUserPin);
  cmds.add(sub, [o, op](Context& ctx) { return run(ctx, *o, op); }, Remote::Yes);
}

}  // namespace

void register_crypto_commands(CLI::App& app, Commands& cmds) {
  add(app, cmds, Op::Sign, "Sign --in with a key of the token; the signature to --out");
  add(app, cmds, Op::Verify, "Verify --signature over --in; exits 7 when it does not match");
  add(app, cmds, Op::Encrypt, "Encrypt --in (a pair encrypts with its public key); IV || ciphertext to --out");
  add(app, cmds, Op::Decrypt, "Decrypt --in (IV || ciphertext for AES-GCM/CBC) to --out");
}

}  // namespace ferrohsm::cli
