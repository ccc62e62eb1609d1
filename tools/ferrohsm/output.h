// What a command prints: human lines, or (with --json) one JSON document on stdout
// at the end. Failures are one line on stderr — "ferrohsm: <what failed>: <reason>
// (CKR_…)" — and, with --json, a document {"ok": false, "error": …} on stdout.
#pragma once

#include "base/result.h"

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <string>

namespace ferrohsm::cli {

class Output {
 public:
  Output(bool json, std::ostream& out, std::ostream& err) : json_(json), out_(out), err_(err) {}

  bool json() const { return json_; }
  void set_json(bool json) { json_ = json; }
  // The document printed in JSON mode; commands fill it.
  nlohmann::json& doc() { return doc_; }
  // A line for people; dropped in JSON mode.
  void line(const std::string& text);
  // Prints the document (JSON mode) and returns 0.
  int finish();
  // Prints the failure and returns its exit code.
  int fail(const Error& e);

 private:
  bool json_;
  std::ostream& out_;
  std::ostream& err_;
  nlohmann::json doc_ = nlohmann::json::object();
};

// Adds context to an error: "<what>: <message>".
Error context(const std::string& what, const Error& e);

// "CKO_PRIVATE_KEY" style names for the output.
std::string class_name(CK_OBJECT_CLASS cls);
std::string key_type_name(CK_KEY_TYPE kt);
// Readable names of the CKF_* token flags that are set.
nlohmann::json token_flag_names(CK_FLAGS flags);

}  // namespace ferrohsm::cli
