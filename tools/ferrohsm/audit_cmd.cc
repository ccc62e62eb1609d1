// `ferrohsm audit verify FILE…` checks an audit log's chain and signed checkpoints and
// names the first record that is wrong; `ferrohsm audit show FILE…` prints records,
// filtered. Both read files only (no store). See docs/AUDIT.md.
#include "audit/verify.h"
#include "commands.h"
#include "exit_codes.h"
#include "output.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <memory>

namespace ferrohsm::cli {
namespace {

struct VerifyArgs {
  std::vector<std::string> paths;
  std::string public_key;
  bool open = false, require_signed = false, partial = false;
};

int run_verify(const VerifyArgs& a, Output& out) {
  auto files = audit::audit_files(a.paths);
  if (!files.ok()) return out.fail(context("audit verify", files.error()));
  audit::VerifyOptions o;
  o.open = a.open;
  o.require_signed = a.require_signed;
  o.partial = a.partial;
  if (!a.public_key.empty()) {
    auto k = audit::read_public_key_pem(a.public_key);
    if (!k.ok()) return out.fail(context("audit verify", k.error()));
    o.public_key = std::move(*k);
  }
  audit::VerifyReport r = audit::verify(*files, o);
  nlohmann::json& d = out.doc();
  d["ok"] = r.ok();
  d["files"] = r.files;
  d["lines"] = r.lines;
  d["records"] = r.records;
  d["checkpoints"] = r.checkpoints;
  d["signed_checkpoints"] = r.signed_checkpoints;
  d["key"] = r.key_fingerprint;
  d["pinned"] = r.pinned;
  for (const auto& f : r.files) out.line("file:        " + f);
  if (r.problem) {
    const audit::Finding& f = *r.problem;
    d["problem"] = {{"file", f.file}, {"line", f.line}, {"kind", f.kind}, {"message", f.message}};
    if (f.seq) d["problem"]["seq"] = *f.seq;
    std::string where = f.file + ":" + std::to_string(f.line) + (f.seq ? " (seq " + std::to_string(*f.seq) + ")" : "");
    std::cerr << "ferrohsm: audit verify: FAILED at " << where << ": " << f.kind << ": " << f.message << "\n";
    out.finish();
    return kExitAudit;
  }
  out.line("verified:    " + std::to_string(r.records) + " records, " + std::to_string(r.checkpoints) +
           " checkpoints (" + std::to_string(r.signed_checkpoints) + " signed)");
  if (r.signed_checkpoints == 0)
    out.line("WARNING:     no checkpoint is signed (no [audit] token): the chain shows changes, but anyone who can "
             "write the file could rewrite it whole");
  else if (!r.pinned)
    out.line("key:         " + r.key_fingerprint +
             " (unpinned: the key the log names; pin it with --public-key to know the log is yours)");
  else
    out.line("key:         " + r.key_fingerprint + " (pinned)");
  return out.finish();
}

struct ShowArgs {
  std::vector<std::string> paths;
  std::string since, until, identity, token, key, function;
};

bool matches(const audit::Line& l, const ShowArgs& a, std::optional<int64_t> since, std::optional<int64_t> until) {
  if (l.kind != "call" && l.kind != "intent") return false;
  const audit::Record& r = l.record;
  if (since && r.time_us < *since) return false;
  if (until && r.time_us > *until) return false;
  if (!a.identity.empty() && r.identity != a.identity) return false;
  if (!a.token.empty() && r.token != a.token) return false;
  if (!a.key.empty() && r.object_id != a.key && r.object_label != a.key) return false;
  if (!a.function.empty() && r.function != a.function) return false;
  return true;
}

int run_show(const ShowArgs& a, Output& out) {
  auto files = audit::audit_files(a.paths);
  if (!files.ok()) return out.fail(context("audit show", files.error()));
  std::optional<int64_t> since, until;
  if (!a.since.empty() && !(since = audit::parse_time(a.since)))
    return out.fail(make_error(CKR_ARGUMENTS_BAD, "--since: a UTC time as 2026-12-06T01:02:03Z or a date"));
  if (!a.until.empty() && !(until = audit::parse_time(a.until)))
    return out.fail(make_error(CKR_ARGUMENTS_BAD, "--until: a UTC time as 2026-12-06T01:02:03Z or a date"));
  nlohmann::json rows = nlohmann::json::array();
  char head[256];
  std::snprintf(head, sizeof head, "%-27s %-6s %-18s %-16s %-22s %-28s %-24s %s", "time", "seq", "identity", "token",
                "function", "mechanism", "object", "rv");
  out.line(head);
  for (const std::string& f : *files) {
    std::ifstream in(f, std::ios::binary);
    std::string text;
    while (std::getline(in, text)) {
      auto l = audit::decode_line(text);
      if (!l.ok() || !matches(*l, a, since, until)) continue;
      rows.push_back(nlohmann::json::parse(text, nullptr, false));
      const audit::Record& r = l->record;
      std::string object = r.object_label.empty() ? r.object_id : r.object_label;
      char row[1024];
      std::snprintf(row, sizeof row, "%-27s %-6llu %-18s %-16s %-22s %-28s %-24s %s", audit::format_time(r.time_us).c_str(),
                    static_cast<unsigned long long>(l->seq), r.identity.c_str(), r.token.c_str(), r.function.c_str(),
                    r.mechanism.c_str(), object.c_str(), r.intent ? "(intent)" : r.rv.c_str());
      out.line(row);
    }
  }
  out.doc()["records"] = rows;
  return out.finish();
}

}  // namespace

void register_audit_commands(CLI::App& app) {
  CLI::App* audit = app.add_subcommand("audit", "Check and read FerroHSM audit logs (docs/AUDIT.md)");
  audit->require_subcommand(1);

  auto v = std::make_shared<VerifyArgs>();
  CLI::App* verify = audit->add_subcommand(
      "verify", "Check the hash chain and signed checkpoints; name the first record modified, inserted, deleted, "
                "reordered or cut off");
  verify->add_option("files", v->paths, "audit files in chain order, a directory, or the live file (its rotated "
                                        "siblings FILE.* come along)")
      ->required();
  verify->add_option("--public-key", v->public_key, "the audit key's public key (PEM): pins the key");
  verify->add_flag("--open", v->open, "a live log: it may end without a closing checkpoint");
  verify->add_flag("--require-signed", v->require_signed, "fail on an unsigned checkpoint");
  verify->add_flag("--partial", v->partial, "the first file need not start the chain (older files removed)");
  verify->callback([v, &app] {
    Output out(app.get_option("--json")->count() > 0, std::cout, std::cerr);
    int code = run_verify(*v, out);
    if (code != kExitOk) throw CLI::RuntimeError(code);
  });

  auto s = std::make_shared<ShowArgs>();
  CLI::App* show = audit->add_subcommand("show", "Print audit records as a table (or JSON with --json), filtered");
  show->add_option("files", s->paths, "audit files, a directory, or the live file")->required();
  show->add_option("--since", s->since, "from this UTC time (2026-12-06T01:02:03Z or 2026-12-06)");
  show->add_option("--until", s->until, "up to this UTC time");
  show->add_option("--identity", s->identity, "only this identity (uid:1000, cert:CN=app1)");
  show->add_option("--token", s->token, "only this token label");
  show->add_option("--key", s->key, "only this object (CKA_UNIQUE_ID or label)");
  show->add_option("--function", s->function, "only this function (C_SignInit)");
  show->callback([s, &app] {
    Output out(app.get_option("--json")->count() > 0, std::cout, std::cerr);
    int code = run_show(*s, out);
    if (code != kExitOk) throw CLI::RuntimeError(code);
  });
}

}  // namespace ferrohsm::cli
