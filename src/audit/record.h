// One audit record: who did what to which key, when, and how it ended. The struct has
// no field for a PIN, key material, data, a signature or an IV, so none can reach the
// log. A record is one JSON line with a fixed key order (docs/AUDIT.md); the chain
// fields (seq, prev) are the writer's, added when the line is written.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <cstdint>
#include <optional>
#include <string>

namespace ferrohsm::audit {

struct Record {
  int64_t time_us = 0;  // UTC, µs since the epoch
  std::string identity;  // "uid:1000", "cert:CN=app1"
  int64_t pid = 0;       // 0: not recorded (a server's peer is not this process)
  std::string exe;
  std::optional<uint64_t> slot;
  std::string token, serial;  // the token's label and serial number
  std::optional<uint64_t> session;
  std::string function;   // "C_SignInit"
  std::string mechanism;  // "CKM_ECDSA"
  std::string object_id, object_class, object_label;  // CKA_UNIQUE_ID, "CKO_PRIVATE_KEY", CKA_LABEL
  std::string rv;         // "CKR_OK"; empty in an intent record
  int64_t duration_us = 0;
  bool intent = false;    // written before a state change in required mode (docs/AUDIT.md)
  std::string rule;       // the policy rule that refused the call
  std::string detail;
};

inline constexpr char kZeroHash[] = "0000000000000000000000000000000000000000000000000000000000000000";

// Now, in µs since the epoch (UTC).
int64_t now_us();
// "2026-12-06T01:02:03.123456Z"
std::string format_time(int64_t us);
// Parses format_time's form (also without the fraction, and a date alone).
std::optional<int64_t> parse_time(const std::string& s);

// Hex SHA-256 of a line's bytes (without its line end): the next line's `prev`.
std::string line_hash(std::string_view line);

// The JSON line (without the line end) of `r` at `seq`, chained to `prev`.
std::string encode_record(const Record& r, uint64_t seq, const std::string& prev);

// A checkpoint: the chain's head (= prev) and count, signed. The signature covers the
// line without its "sig" member (checkpoint_message), so every other byte of it.
struct Checkpoint {
  uint64_t seq = 0;
  std::string prev;
  int64_t time_us = 0;
  uint64_t records = 0;      // records (not checkpoints) since the previous checkpoint
  std::string key;           // hex SHA-256 of the audit public key's SPKI; empty: unsigned
  std::string public_key;    // base64 SPKI (so that a log can be checked unpinned)
  std::string reason;        // "interval", "rotation", "close"; why an unsigned one is
  std::string sig;           // hex Ed25519 signature; empty: unsigned
};
std::string checkpoint_message(const Checkpoint& c);
std::string encode_checkpoint(const Checkpoint& c);

// The first line of a file that continues a rotated one: chained to its last line.
std::string encode_open(uint64_t seq, const std::string& prev, int64_t time_us, const std::string& previous_file);

// A parsed line, for verify and show.
struct Line {
  uint64_t seq = 0;
  std::string prev;
  std::string kind;  // "call", "intent", "checkpoint" or "open"
  int64_t time_us = 0;
  std::string previous_file;  // kind "open"
  Record record;     // kind "call"
  Checkpoint checkpoint;  // kind "checkpoint"
  std::string canonical;  // the line as the writer would have written it
};
Result<Line> decode_line(std::string_view text);

std::string base64(ByteView b);
std::optional<Bytes> from_base64(const std::string& s);

}  // namespace ferrohsm::audit
