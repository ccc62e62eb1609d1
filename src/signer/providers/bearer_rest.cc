#include "bearer_rest.h"

#include <spdlog/spdlog.h>

namespace ferrohsm::signer::cloud {

using nlohmann::json;

Result<RestReply> BearerRest::call(const Context& ctx, const std::string& method, const std::string& url,
                                   const std::optional<json>& body, const BodyCheck& check) {
  // The operation is the URL's last segment (":asymmetricSign", "cryptoKeys?…") — no query.
  std::string op = url.substr(url.find_last_of("/:") + 1);
  std::string what = what_ + " " + method + " " + op.substr(0, op.find('?'));
  bool refreshed = false;
  return with_retries<RestReply>(ctx, policy_, what, [&](std::chrono::milliseconds timeout) -> Attempt<RestReply> {
    auto token = tokens_.get(ctx);
    if (!token) return {token.error(), false};
    HttpRequest req{method, url, {{"Authorization", "Bearer " + token->value}, {"Accept", "application/json"}}, ""};
    if (body) {
      req.headers.emplace_back("Content-Type", "application/json");
      req.body = body->dump();
    }
    auto res = http_.send(req, timeout);
    if (!res) return {Error::unavailable(what + ": " + res.error().message), true};
    RestReply reply;
    reply.status = res->status;
    reply.body = json::parse(res->body, nullptr, false);
    if (reply.ok()) {
      if (!reply.body.is_object())
        return {Error::unavailable(what + ": the service answered with a body that is not a JSON object"), true};
      if (check) {
        if (std::string problem = check(reply.body); !problem.empty())
          return {Error::unavailable(what + ": " + problem), true};
      }
      return {std::move(reply), false};
    }
    if (reply.body.is_object() && reply.body.contains("error") && reply.body["error"].is_object()) {
      const json& e = reply.body["error"];
      if (e.contains("status") && e["status"].is_string()) reply.code = e["status"].get<std::string>();
      else if (e.contains("code") && e["code"].is_string()) reply.code = e["code"].get<std::string>();
      if (e.contains("message") && e["message"].is_string())
        reply.message = clean_message(e["message"].get<std::string>(), std::vector<std::string>{token->value});
    }
    std::string text = what + ": HTTP " + std::to_string(res->status) + (reply.code.empty() ? "" : " " + reply.code) +
                       (reply.message.empty() ? "" : ": " + reply.message);
    if (res->status == 401 && !refreshed) {
      refreshed = true;
      spdlog::info("{}: the access token was refused; fetching a new one", what);
      tokens_.invalidate();
      return {Error::unavailable(text), true};
    }
    if (res->status >= 500 || res->status == 429) return {Error::unavailable(text), true};
    return {std::move(reply), false};
  });
}

}  // namespace ferrohsm::signer::cloud
