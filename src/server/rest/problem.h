// Errors of the REST API: RFC 9457 problem details (application/problem+json) that
// carry the PKCS#11 return code by name, with the HTTP status from one table. A
// message never holds a secret: it is the core's error message, which never does.
#pragma once

#include <ferrohsm/cryptoki.h>

#include <string>

namespace ferrohsm::server::rest {

// The HTTP status a return code answers with (500 for codes not in the table).
int http_status(CK_RV rv);

// {"type": "https://ferrohsm.dev/problems/CKR_…", "title": "CKR_…", "status": N, "detail": "…"}
std::string problem_json(CK_RV rv, const std::string& detail, int status = 0);

}  // namespace ferrohsm::server::rest
