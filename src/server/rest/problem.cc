#include "server/rest/problem.h"

#include "base/names.h"

#include <nlohmann/json.hpp>

namespace ferrohsm::server::rest {
namespace {

struct StatusRow {
  CK_RV rv;
  int status;
};

// One row per code a request can end with. 4xx: the caller can do something about it;
// 5xx: the server or its store cannot.
constexpr StatusRow kStatus[] = {
    {CKR_OK, 200},
    {CKR_ARGUMENTS_BAD, 400},
    {CKR_ATTRIBUTE_VALUE_INVALID, 400},
    {CKR_ATTRIBUTE_TYPE_INVALID, 400},
    {CKR_DATA_INVALID, 400},
    {CKR_DATA_LEN_RANGE, 400},
    {CKR_ENCRYPTED_DATA_INVALID, 400},
    {CKR_ENCRYPTED_DATA_LEN_RANGE, 400},
    {CKR_MECHANISM_INVALID, 400},
    {CKR_MECHANISM_PARAM_INVALID, 400},
    {CKR_TEMPLATE_INCOMPLETE, 400},
    {CKR_TEMPLATE_INCONSISTENT, 400},
    {CKR_KEY_SIZE_RANGE, 400},
    {CKR_CURVE_NOT_SUPPORTED, 400},
    {CKR_DOMAIN_PARAMS_INVALID, 400},
    {CKR_WRAPPED_KEY_INVALID, 400},
    {CKR_WRAPPED_KEY_LEN_RANGE, 400},
    {CKR_WRAPPING_KEY_SIZE_RANGE, 400},
    {CKR_UNWRAPPING_KEY_SIZE_RANGE, 400},
    {CKR_ATTRIBUTE_READ_ONLY, 400},
    {CKR_PIN_INVALID, 400},
    {CKR_PIN_LEN_RANGE, 400},
    {CKR_PIN_INCORRECT, 401},
    {CKR_USER_NOT_LOGGED_IN, 401},
    {CKR_SESSION_HANDLE_INVALID, 401},
    {CKR_SESSION_CLOSED, 401},
    {CKR_KEY_FUNCTION_NOT_PERMITTED, 403},
    {CKR_KEY_TYPE_INCONSISTENT, 409},
    {CKR_KEY_NOT_WRAPPABLE, 409},
    {CKR_WRAPPING_KEY_TYPE_INCONSISTENT, 409},
    {CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, 409},
    {CKR_KEY_UNEXTRACTABLE, 403},
    {CKR_ACTION_PROHIBITED, 403},
    {CKR_ATTRIBUTE_SENSITIVE, 403},
    {CKR_USER_TYPE_INVALID, 403},
    {CKR_OBJECT_HANDLE_INVALID, 404},
    {CKR_KEY_HANDLE_INVALID, 404},
    {CKR_WRAPPING_KEY_HANDLE_INVALID, 404},
    {CKR_UNWRAPPING_KEY_HANDLE_INVALID, 404},
    {CKR_TOKEN_NOT_PRESENT, 404},
    {CKR_SLOT_ID_INVALID, 404},
    {CKR_SIGNATURE_INVALID, 422},
    {CKR_SIGNATURE_LEN_RANGE, 422},
    {CKR_PIN_LOCKED, 423},
    {CKR_PIN_EXPIRED, 423},
    {CKR_USER_ALREADY_LOGGED_IN, 409},
    {CKR_USER_ANOTHER_ALREADY_LOGGED_IN, 409},
    {CKR_OPERATION_ACTIVE, 409},
    {CKR_FUNCTION_REJECTED, 429},
    {CKR_FUNCTION_NOT_SUPPORTED, 501},
    {CKR_DEVICE_ERROR, 503},
    {CKR_DEVICE_MEMORY, 503},
    {CKR_DEVICE_REMOVED, 503},
    {CKR_TOKEN_WRITE_PROTECTED, 503},
    {CKR_HOST_MEMORY, 503},
    {CKR_FUNCTION_FAILED, 500},
    {CKR_GENERAL_ERROR, 500},
};

}  // namespace

int http_status(CK_RV rv) {
  for (const StatusRow& r : kStatus)
    if (r.rv == rv) return r.status;
  return 500;
}

std::string problem_json(CK_RV rv, const std::string& detail, int status) {
  const char* name = rv_name(rv);
  nlohmann::ordered_json j;
  j["type"] = std::string("https://ferrohsm.dev/problems/") + name;
  j["title"] = name;
  j["status"] = status != 0 ? status : http_status(rv);
  j["detail"] = detail;
  return j.dump();
}

}  // namespace ferrohsm::server::rest
