// Checks an audit log: every line well-formed and in canonical form, seq counting up
// by one, each prev the hash of the line before (across rotated files), every
// checkpoint's signature, and that the log ends with a checkpoint. Reports the first
// record that is wrong and how: modified, inserted, deleted, reordered or truncated.
#pragma once

#include "audit/record.h"

#include <optional>
#include <string>
#include <vector>

namespace ferrohsm::audit {

struct VerifyOptions {
  std::optional<Bytes> public_key;  // the audit key's SPKI (pinned); none: the log's own
  bool open = false;                // a live log: it may end without a closing checkpoint
  bool require_signed = false;      // an unsigned checkpoint is a failure
  bool partial = false;             // the first file need not start the chain (seq 0)
};

struct Finding {
  std::string file;
  size_t line = 0;                 // 1-based
  std::optional<uint64_t> seq;     // the record's seq, where known
  std::string kind;                // modified | inserted | deleted | reordered | truncated | unsigned
  std::string message;
};

struct VerifyReport {
  std::optional<Finding> problem;  // the first; none: the log holds
  uint64_t lines = 0, records = 0, checkpoints = 0, signed_checkpoints = 0;
  std::string key_fingerprint;     // of the key that signed
  bool pinned = false;
  std::vector<std::string> files;  // in chain order
  bool ok() const { return !problem.has_value(); }
};

// FILE…: files, or a directory (its audit files), or a live file (with its rotated
// siblings FILE.*). In chain order: by the seq of each file's first line.
Result<std::vector<std::string>> audit_files(const std::vector<std::string>& args);
VerifyReport verify(const std::vector<std::string>& files, const VerifyOptions& options);

// Reads a PEM public key file to its DER SPKI.
Result<Bytes> read_public_key_pem(const std::string& path);

}  // namespace ferrohsm::audit
