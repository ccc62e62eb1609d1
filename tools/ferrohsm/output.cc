#include "output.h"

#include "base/names.h"
#include "exit_codes.h"

#include <array>
#include <ostream>
#include <utility>

namespace ferrohsm::cli {
namespace {

constexpr std::array<std::pair<CK_OBJECT_CLASS, const char*>, 5> kClasses = {{
    {CKO_DATA, "data"},
    {CKO_CERTIFICATE, "certificate"},
    {CKO_PUBLIC_KEY, "public-key"},
    {CKO_PRIVATE_KEY, "private-key"},
    {CKO_SECRET_KEY, "secret-key"},
}};

constexpr std::array<std::pair<CK_KEY_TYPE, const char*>, 5> kKeyTypes = {{
    {CKK_RSA, "rsa"},
    {CKK_EC, "ec"},
    {CKK_EC_EDWARDS, "ec-edwards"},
    {CKK_AES, "aes"},
    {CKK_GENERIC_SECRET, "generic-secret"},
}};

constexpr std::array<std::pair<CK_FLAGS, const char*>, 12> kTokenFlags = {{
    {CKF_TOKEN_INITIALIZED, "token-initialized"},
    {CKF_USER_PIN_INITIALIZED, "user-pin-initialized"},
    {CKF_LOGIN_REQUIRED, "login-required"},
    {CKF_RNG, "rng"},
    {CKF_WRITE_PROTECTED, "write-protected"},
    {CKF_USER_PIN_COUNT_LOW, "user-pin-count-low"},
    {CKF_USER_PIN_FINAL_TRY, "user-pin-final-try"},
    {CKF_USER_PIN_LOCKED, "user-pin-locked"},
    {CKF_SO_PIN_COUNT_LOW, "so-pin-count-low"},
    {CKF_SO_PIN_FINAL_TRY, "so-pin-final-try"},
    {CKF_SO_PIN_LOCKED, "so-pin-locked"},
    {CKF_USER_PIN_TO_BE_CHANGED, "user-pin-to-be-changed"},
}};

}  // namespace

void Output::line(const std::string& text) {
  if (!json_) out_ << text << '\n';
}

int Output::finish() {
  if (json_) out_ << doc_.dump(2) << '\n';
  out_.flush();
  return kExitOk;
}

int Output::fail(const Error& e) {
  const char* name = rv_name(e.rv);
  std::string msg = e.message.empty() ? "failed" : e.message;
  err_ << "ferrohsm: " << msg << " (" << name << ")\n";
  int code = exit_code_for(e.rv);
  if (json_) {
    nlohmann::json d = {{"ok", false}, {"error", msg}, {"rv", name}, {"exit_code", code}};
    out_ << d.dump(2) << '\n';
  }
  out_.flush();
  err_.flush();
  return code;
}

Error context(const std::string& what, const Error& e) {
  return make_error(e.rv, e.message.empty() ? what : what + ": " + e.message);
}

std::string class_name(CK_OBJECT_CLASS cls) {
  for (const auto& [c, name] : kClasses)
    if (c == cls) return name;
  return "class-" + std::to_string(cls);
}

std::string key_type_name(CK_KEY_TYPE kt) {
  for (const auto& [k, name] : kKeyTypes)
    if (k == kt) return name;
  return "key-type-" + std::to_string(kt);
}

nlohmann::json token_flag_names(CK_FLAGS flags) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [f, name] : kTokenFlags)
    if (flags & f) out.push_back(name);
  return out;
}

}  // namespace ferrohsm::cli
