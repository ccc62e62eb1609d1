#include "fakes/fake_azure_kv.h"

#include <nlohmann/json.hpp>

namespace ferrohsm::signer::testing {

using nlohmann::json;

FakeAzureKv::FakeAzureKv() {
  http().Post(R"(/([^/]+)/oauth2/v2.0/token)", [this](const httplib::Request& req, httplib::Response& res) {
    auto refuse = [&](int status, const std::string& error, const std::string& why) {
      res.status = status;
      res.set_content(json{{"error", error}, {"error_description", why}}.dump(), "application/json");
    };
    if (req.matches[1] != kTenant) return refuse(400, "invalid_request", "AADSTS90002: Tenant not found.");
    if (req.get_param_value("grant_type") != "client_credentials")
      return refuse(400, "unsupported_grant_type", "AADSTS70003: unsupported grant type");
    if (req.get_param_value("client_id") != kClientId)
      return refuse(400, "unauthorized_client", "AADSTS700016: Application not found in the directory.");
    if (req.get_param_value("client_secret") != kSecret)
      return refuse(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.");
    if (req.get_param_value("scope") != "https://vault.azure.net/.default")
      return refuse(400, "invalid_scope", "AADSTS70011: The provided value for scope is not valid.");
    std::lock_guard lock(mu_);
    std::string token = "eyJ0eXAi.fake-aad-token." + std::to_string(tokens_.size() + 1);
    tokens_.insert(token);
    res.set_content(json{{"token_type", "Bearer"}, {"expires_in", 3599}, {"access_token", token}}.dump(),
                    "application/json");
  });
  http().Get(R"(/keys/([^/]+)/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    auto kv_error = [&](int status, const std::string& code, const std::string& message) {
      res.status = status;
      res.set_content(json{{"error", {{"code", code}, {"message", message}}}}.dump(), "application/json");
    };
    if (req.get_param_value("api-version").empty())
      return kv_error(400, "BadParameter", "The request URI contains an invalid name: api-version");
    std::string auth = req.get_header_value("Authorization");
    {
      std::lock_guard lock(mu_);
      if (!auth.starts_with("Bearer ") || !tokens_.contains(auth.substr(7))) {
        res.set_header("WWW-Authenticate", "Bearer authorization=\"https://login.microsoftonline.com/" +
                                               std::string(kTenant) + "\", resource=\"https://vault.azure.net\"");
        return kv_error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.");
      }
      key_reads_++;
    }
    std::string kid = url() + req.path;
    json key;
    if (kid == ec_key()) {
      key = {{"kid", kid}, {"kty", "EC"}, {"crv", "P-256"}, {"key_ops", {"sign", "verify"}},
             {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"}, {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}};
    } else if (kid == rsa_key()) {
      key = {{"kid", kid}, {"kty", "RSA"}, {"key_ops", {"sign", "verify"}}, {"n", "0vx7agoebGcQSuuPiLJXZptN"}, {"e", "AQAB"}};
    } else {
      return kv_error(404, "KeyNotFound", "A key with (name/id) " + req.matches[1].str() + "/" + req.matches[2].str() +
                                              " was not found in this key vault.");
    }
    res.set_content(json{{"key", key}, {"attributes", {{"enabled", true}}}}.dump(), "application/json");
  });
  start();
}

int FakeAzureKv::tokens_issued() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(tokens_.size());
}

int FakeAzureKv::key_reads() const {
  std::lock_guard lock(mu_);
  return key_reads_;
}

}  // namespace ferrohsm::signer::testing
