// [[access]] rules: which peers may use the server and what each sees. A rule names a
// peer ("uid:1000", "uid:alice", "gid:100", "gid:hsm", "cert:CN=app1",
// "cert:CN=app1,O=Example", "cert:URI:spiffe://example.org/app", "cert:DNS:host",
// "cert:EMAIL:…", "cert:IP:…"); the first rule that matches a peer gives its Grant.
// A peer no rule matches is refused.
#pragma once

#include "base/result.h"
#include "server/peer.h"

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ferrohsm::server {

struct AccessRule {
  enum class Kind { kUid, kGid, kCertSubject, kCertSan };
  Kind kind = Kind::kUid;
  std::string peer;  // as written
  uint32_t id = 0;   // kUid, kGid
  // kCertSubject: every attribute=value here must be in the certificate's subject
  // (attribute names compared without case, values exactly).
  std::vector<std::pair<std::string, std::string>> subject;
  std::string san;  // kCertSan: "URI:spiffe://…", compared exactly
  std::vector<std::string> tokens = {"*"};
  bool admin = false;

  bool matches(const Peer& peer) const;
};

// Parses a peer pattern (names of users and groups are looked up now).
Result<AccessRule> parse_peer_pattern(const std::string& peer);

// The first rule that matches `peer` as a Grant naming it ("access[2] peer=uid:1000"),
// or nothing.
std::optional<Grant> find_grant(const std::vector<AccessRule>& rules, const Peer& peer);

// "access[0] uid:1000, access[1] cert:CN=app1": the rules, for the refusal log line.
std::string describe_rules(const std::vector<AccessRule>& rules);

// Splits an RFC 4514 distinguished name ("CN=app1,O=Example") into attribute/value
// pairs, undoing backslash escapes; multi-valued RDNs ('+') become separate pairs.
std::vector<std::pair<std::string, std::string>> split_dn(const std::string& dn);

}  // namespace ferrohsm::server
