#include "audit/verify.h"

#include "audit/signer.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

namespace ferrohsm::audit {

namespace fs = std::filesystem;

namespace {

struct Entry {
  size_t file = 0;
  size_t line = 0;
  std::string text;
  std::optional<Line> parsed;
  std::string error;  // why it did not parse
  std::string hash;
  bool no_line_end = false;
};

bool starts_like_audit(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return in && in.peek() == '{';
}

// The rotated siblings sort by their UTC time suffix; the live file (a prefix of its
// siblings) comes after them.
std::string order_key(const std::string& name, const std::set<std::string>& names) {
  for (const std::string& other : names)
    if (other.size() > name.size() && other.compare(0, name.size(), name) == 0 && other[name.size()] == '.')
      return name + "\x7f";
  return name;
}

std::vector<std::string> ordered(const std::vector<fs::path>& paths) {
  std::set<std::string> names;
  for (const auto& p : paths) names.insert(p.string());
  std::vector<std::string> out(names.begin(), names.end());
  std::sort(out.begin(), out.end(),
            [&](const std::string& a, const std::string& b) { return order_key(a, names) < order_key(b, names); });
  return out;
}

int differing_chars(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return 1000;
  int n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += a[i] != b[i];
  return n;
}

}  // namespace

Result<std::vector<std::string>> audit_files(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const std::string& a : args) {
    std::error_code ec;
    std::vector<fs::path> found;
    if (fs::is_directory(a, ec)) {
      for (const auto& e : fs::directory_iterator(a, ec))
        if (e.is_regular_file() && starts_like_audit(e.path())) found.push_back(e.path());
    } else if (fs::is_regular_file(a, ec)) {
      found.push_back(a);
      // A live file brings its rotated siblings (FILE.<time>) along.
      fs::path dir = fs::path(a).parent_path();
      std::string stem = fs::path(a).filename().string() + ".";
      for (const auto& e : fs::directory_iterator(dir.empty() ? fs::path(".") : dir, ec))
        if (e.is_regular_file() && e.path().filename().string().rfind(stem, 0) == 0) found.push_back(e.path());
    } else {
      return make_error(CKR_ARGUMENTS_BAD, "no audit file or directory " + a);
    }
    for (std::string& f : ordered(found))
      if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(std::move(f));
  }
  if (out.empty()) return make_error(CKR_ARGUMENTS_BAD, "no audit files found");
  return out;
}

Result<Bytes> read_public_key_pem(const std::string& path) {
  std::unique_ptr<FILE, decltype(&std::fclose)> f(std::fopen(path.c_str(), "r"), std::fclose);
  if (!f) return make_error(CKR_ARGUMENTS_BAD, "cannot read the public key file " + path);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_PUBKEY(f.get(), nullptr, nullptr, nullptr),
                                                          EVP_PKEY_free);
  if (!key) return make_error(CKR_ARGUMENTS_BAD, path + " holds no PEM public key");
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key.get(), &der);
  if (n <= 0) return make_error(CKR_ARGUMENTS_BAD, path + ": the public key cannot be encoded");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

VerifyReport verify(const std::vector<std::string>& files, const VerifyOptions& options) {
  VerifyReport rep;
  rep.files = files;
  std::vector<Entry> entries;
  for (size_t fi = 0; fi < files.size(); ++fi) {
    std::ifstream in(files[fi], std::ios::binary);
    if (!in) {
      rep.problem = Finding{files[fi], 0, std::nullopt, "deleted", "the file cannot be read"};
      return rep;
    }
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t pos = 0, line = 0;
    while (pos < content.size()) {
      size_t nl = content.find('\n', pos);
      Entry e;
      e.file = fi;
      e.line = ++line;
      e.no_line_end = nl == std::string::npos;
      e.text = content.substr(pos, e.no_line_end ? std::string::npos : nl - pos);
      pos = e.no_line_end ? content.size() : nl + 1;
      e.hash = line_hash(e.text);
      auto l = decode_line(e.text);
      if (l.ok()) e.parsed = std::move(*l);
      else e.error = l.error().message;
      entries.push_back(std::move(e));
    }
  }
  rep.lines = entries.size();
  auto fail = [&](size_t i, std::optional<uint64_t> seq, std::string kind, std::string msg) {
    const Entry& e = entries[i];
    rep.problem = Finding{files[e.file], e.line, seq, std::move(kind), std::move(msg)};
    return rep;
  };
  auto seq_of = [&](size_t i) -> std::optional<uint64_t> {
    return entries[i].parsed ? std::optional<uint64_t>(entries[i].parsed->seq) : std::nullopt;
  };
  if (entries.empty()) {
    rep.problem = Finding{files.empty() ? "" : files.front(), 0, std::nullopt, "truncated", "the log is empty"};
    return rep;
  }
  std::optional<Bytes> key = options.public_key;
  rep.pinned = key.has_value();
  std::optional<uint64_t> last_checkpoint;

  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const bool next_links_past =
        i > 0 && i + 1 < entries.size() && entries[i + 1].parsed && entries[i + 1].parsed->prev == entries[i - 1].hash;
    if (!e.parsed) {
      if (next_links_past) return fail(i, std::nullopt, "inserted", "a line that is not a record: " + e.error);
      std::optional<uint64_t> guess = i > 0 ? seq_of(i - 1) : std::nullopt;
      if (guess) ++*guess;
      return fail(i, guess, "modified",
                  "not a valid record: " + e.error);
    }
    const Line& l = *e.parsed;
    if (e.no_line_end)
      return fail(i, l.seq, "truncated", "the last line has no line end: the file was cut off or changed");
    if (l.canonical != e.text)
      return fail(i, l.seq, "modified", "the line is not as the writer wrote it (not in canonical form)");
    if (i == 0) {
      if (!options.partial && (l.seq != 0 || l.prev != kZeroHash)) {
        if (l.prev == kZeroHash) return fail(i, l.seq, "modified", "the chain's first record must have seq 0");
        if (l.seq == 0) return fail(i, l.seq, "modified", "the chain's first record must link to 64 zeros");
        return fail(i, 0, "deleted",
                    "the chain does not start here: the records before seq " + std::to_string(l.seq) +
                        " are missing (--partial checks a log whose older files were removed)");
      }
    } else {
      const Entry& before = entries[i - 1];
      const uint64_t want = before.parsed->seq + 1;
      if (l.prev == before.hash) {
        if (l.seq != want)
          return fail(i, l.seq, "modified", "seq " + std::to_string(l.seq) + " where " + std::to_string(want) +
                                                " should follow (the link to the line before holds)");
      } else if (differing_chars(l.prev, before.hash) == 1) {
        return fail(i, l.seq, "modified", "its prev link was changed");
      } else if (i >= 2 && entries[i - 2].parsed && l.prev == entries[i - 2].hash) {
        return fail(i - 1, before.parsed->seq, "inserted",
                    "a record the chain does not hold (the record after it links to the one before it)");
      } else {
        // Where is the record that should come here?
        std::optional<size_t> later;
        for (size_t j = i + 1; j < entries.size() && !later; ++j)
          if (entries[j].parsed && entries[j].parsed->seq == want) later = j;
        if (l.seq > want && later)
          return fail(i, l.seq, "reordered",
                      "seq " + std::to_string(l.seq) + " comes before seq " + std::to_string(want) + " (at " +
                          files[entries[*later].file] + ":" + std::to_string(entries[*later].line) + ")");
        if (next_links_past) return fail(i, l.seq, "inserted", "a record the chain does not hold (the next line links past it)");
        if (l.seq == want)
          return fail(i - 1, before.parsed->seq, "modified",
                      "its hash no longer matches the prev link of the record after it");
        if (l.seq > want)
          return fail(i, want, "deleted",
                      want + 1 == l.seq ? "record seq " + std::to_string(want) + " is missing before this line"
                                        : "records seq " + std::to_string(want) + " to " + std::to_string(l.seq - 1) +
                                              " are missing before this line");
        return fail(i, l.seq, "reordered",
                    "seq " + std::to_string(l.seq) + " appears after seq " + std::to_string(want - 1));
      }
    }
    if (l.kind == "checkpoint") {
      const Checkpoint& c = l.checkpoint;
      ++rep.checkpoints;
      if (c.records != c.seq) return fail(i, l.seq, "modified", "the checkpoint's record count does not match its seq");
      if (c.sig.empty()) {
        if (options.require_signed) return fail(i, l.seq, "unsigned", "an unsigned checkpoint (--require-signed)");
      } else {
        if (!key) {
          auto k = from_base64(c.public_key);
          if (!k) return fail(i, l.seq, "modified", "the checkpoint's public key is not base64");
          key = *k;
        }
        rep.key_fingerprint = key_fingerprint(*key);
        if (c.key != rep.key_fingerprint)
          return fail(i, l.seq, "modified",
                      "the checkpoint names key " + c.key + ", not " + rep.key_fingerprint +
                          (rep.pinned ? " (the pinned key)" : " (the log's first key)"));
        if (base64(*key) != c.public_key)
          return fail(i, l.seq, "modified", "the checkpoint's public key does not match its fingerprint");
        Bytes sig;
        if (!from_hex(c.sig, sig) ||
            !verify_signature(*key, as_bytes(checkpoint_message(c)), sig))
          return fail(i, l.seq, "modified", "the checkpoint's signature does not verify");
        ++rep.signed_checkpoints;
      }
      last_checkpoint = i;
    } else if (l.kind != "open") {
      ++rep.records;
    }
  }
  const size_t last = entries.size() - 1;
  if (!options.open && entries[last].parsed->kind != "checkpoint") {
    std::string where = last_checkpoint ? "after the last checkpoint (" + files[entries[*last_checkpoint].file] + ":" +
                                              std::to_string(entries[*last_checkpoint].line) + ")"
                                        : "with no checkpoint at all";
    return fail(last, entries[last].parsed->seq, "truncated",
                "the log ends without a closing checkpoint, " + where +
                    ": it was cut off, or its writer is still running or did not close (--open accepts a live log)");
  }
  return rep;
}

}  // namespace ferrohsm::audit
