#include "oauth_token.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace ferrohsm::signer::cloud {

Result<BearerToken> fetch_token(const Context& ctx, HttpClient& http, const RetryPolicy& policy, std::string_view what,
                                const HttpRequest& request, const std::vector<std::string>& secrets) {
  std::string label(what);
  return with_retries<BearerToken>(ctx, policy, label, [&](std::chrono::milliseconds timeout) -> Attempt<BearerToken> {
    auto res = http.send(request, timeout);
    if (!res) return {Error::unavailable(label + ": " + res.error().message), true};
    auto body = nlohmann::json::parse(res->body, nullptr, false);
    if (res->status == 200 && body.is_object() && body.contains("access_token") && body["access_token"].is_string()) {
      BearerToken t{body["access_token"].get<std::string>(), std::nullopt};
      long long seconds = 0;
      if (body.contains("expires_in")) {
        const auto& e = body["expires_in"];  // a number (Google) or a string of one (some Azure answers)
        if (e.is_number_integer()) seconds = e.get<long long>();
        else if (e.is_string()) seconds = std::atoll(e.get<std::string>().c_str());
      }
      if (seconds > 0) t.expires = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
      return {std::move(t), false};
    }
    std::string detail;
    if (body.is_object()) {
      if (body.contains("error") && body["error"].is_string()) detail = body["error"].get<std::string>();
      if (body.contains("error_description") && body["error_description"].is_string())
        detail += ": " + body["error_description"].get<std::string>();
    }
    std::string msg = label + ": HTTP " + std::to_string(res->status) +
                      (detail.empty() ? "" : " " + clean_message(detail, secrets));
    bool retry = res->status >= 500 || res->status == 429;
    if (!retry) spdlog::warn("{}", msg);
    return {Error::unavailable(msg), retry};
  });
}

}  // namespace ferrohsm::signer::cloud
