#include "server/access.h"

#include <grp.h>
#include <pwd.h>
#include <strings.h>

#include <algorithm>
#include <charconv>

namespace ferrohsm::server {
namespace {

Error bad(const std::string& peer, const std::string& why) {
  return make_error(CKR_ARGUMENTS_BAD, "access peer '" + peer + "': " + why);
}

std::optional<uint32_t> number(std::string_view s) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<uint32_t> user_id(const std::string& peer, const std::string& name) {
  if (auto n = number(name)) return *n;
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return bad(peer, "no user named '" + name + "'");
  return static_cast<uint32_t>(found->pw_uid);
}

Result<uint32_t> group_id(const std::string& peer, const std::string& name) {
  if (auto n = number(name)) return *n;
  std::vector<char> buf(65536);
  group gr{};
  group* found = nullptr;
  if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return bad(peer, "no group named '" + name + "'");
  return static_cast<uint32_t>(found->gr_gid);
}

constexpr const char* kSanKinds[] = {"URI:", "DNS:", "EMAIL:", "IP:"};

}  // namespace

std::vector<std::pair<std::string, std::string>> split_dn(const std::string& dn) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string attr, value;
  bool in_value = false;
  auto flush = [&] {
    if (!attr.empty() || !value.empty()) out.emplace_back(attr, value);
    attr.clear();
    value.clear();
    in_value = false;
  };
  for (size_t i = 0; i < dn.size(); ++i) {
    char c = dn[i];
    if (c == '\\' && i + 1 < dn.size()) {
      (in_value ? value : attr) += dn[++i];
    } else if (c == ',' || c == '+') {
      flush();
    } else if (c == '=' && !in_value) {
      in_value = true;
    } else {
      (in_value ? value : attr) += c;
    }
  }
  flush();
  for (auto& [a, v] : out) {
    auto trim = [](std::string& s) {
      s.erase(0, s.find_first_not_of(' '));
      s.erase(s.find_last_not_of(' ') + 1);
    };
    trim(a);
    trim(v);
  }
  return out;
}

Result<AccessRule> parse_peer_pattern(const std::string& peer) {
  AccessRule r;
  r.peer = peer;
  if (peer.starts_with("uid:")) {
    r.kind = AccessRule::Kind::kUid;
    FH_ASSIGN_OR_RETURN(r.id, user_id(peer, peer.substr(4)));
    return r;
  }
  if (peer.starts_with("gid:")) {
    r.kind = AccessRule::Kind::kGid;
    FH_ASSIGN_OR_RETURN(r.id, group_id(peer, peer.substr(4)));
    return r;
  }
  if (!peer.starts_with("cert:")) return bad(peer, "must start with uid:, gid: or cert:");
  std::string rest = peer.substr(5);
  for (const char* kind : kSanKinds) {
    if (rest.starts_with(kind)) {
      if (rest.size() == std::string_view(kind).size()) return bad(peer, "the name after " + std::string(kind) + " is empty");
      r.kind = AccessRule::Kind::kCertSan;
      r.san = rest;
      return r;
    }
  }
  r.kind = AccessRule::Kind::kCertSubject;
  r.subject = split_dn(rest);
  if (r.subject.empty()) return bad(peer, "names no subject attribute (cert:CN=name)");
  for (const auto& [a, v] : r.subject)
    if (a.empty() || v.empty()) return bad(peer, "subject attributes are written NAME=value");
  return r;
}

bool AccessRule::matches(const Peer& p) const {
  switch (kind) {
    case Kind::kUid:
      return p.uid && *p.uid == id;
    case Kind::kGid:
      return (p.gid && *p.gid == id) || std::find(p.groups.begin(), p.groups.end(), id) != p.groups.end();
    case Kind::kCertSan:
      return std::find(p.cert_sans.begin(), p.cert_sans.end(), san) != p.cert_sans.end();
    case Kind::kCertSubject: {
      if (p.cert_subject.empty()) return false;
      auto have = split_dn(p.cert_subject);
      for (const auto& [a, v] : subject) {
        bool found = std::any_of(have.begin(), have.end(), [&](const auto& h) {
          return strcasecmp(h.first.c_str(), a.c_str()) == 0 && h.second == v;
        });
        if (!found) return false;
      }
      return true;
    }
  }
  return false;
}

std::optional<Grant> find_grant(const std::vector<AccessRule>& rules, const Peer& peer) {
  for (size_t i = 0; i < rules.size(); ++i) {
    if (!rules[i].matches(peer)) continue;
    Grant g;
    g.tokens = rules[i].tokens;
    g.admin = rules[i].admin;
    g.rule = "access[" + std::to_string(i) + "] peer=" + rules[i].peer;
    return g;
  }
  return std::nullopt;
}

std::string describe_rules(const std::vector<AccessRule>& rules) {
  if (rules.empty()) return "no [[access]] rules";
  std::string out;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (i) out += ", ";
    out += "access[" + std::to_string(i) + "] " + rules[i].peer;
  }
  return out;
}

}  // namespace ferrohsm::server
