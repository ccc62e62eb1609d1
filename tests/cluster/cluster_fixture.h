// What the cluster tests share (issue 16): one private PostgreSQL server
// (tests/support/pg_instance.h) and three real ferrohsm-server processes on one
// database of it, on Unix sockets, started once for the test program and stopped by pid
// at its end (tests/sidecar/sidecar_fixture.h's ServerProcess), with one token
// ("cluster": the user PIN and an EC P-256 key labelled kKeyLabel, made through server
// 0). The module in this process is initialised for one endpoint list at a time
// (Library); child applications (cluster-app) run the concurrent load.
#pragma once

#include "sidecar_fixture.h"

#include <string>
#include <vector>

namespace ferrohsm::cluster_test {

using sidecar_test::App;
using sidecar_test::Library;
using sidecar_test::ServerProcess;

inline constexpr char kToken[] = "cluster";
inline constexpr int kServers = 3;

std::string app_path();          // cluster-app (sidecar_test::module_path() is the module)
ServerProcess& server(int i);    // 0, 1, 2
std::string dir();               // the program's temporary folder
// The library's configuration with these servers' Unix endpoints, in this order.
std::string lib_conf(const std::string& name, const std::vector<int>& servers);

// Restarts the private PostgreSQL server in place: a fast shutdown (SIGINT), then a new
// postmaster with the same command line, data and socket, started by this program and
// stopped by pid at its end. "" once it answers again, else what went wrong.
std::string restart_postgres();

// A read-write session on token `label`, logged in as the user (CK_INVALID_HANDLE and a
// gtest failure when not).
CK_SESSION_HANDLE rw_session(CK_FUNCTION_LIST_3_0* f, const std::string& label);
// The CKA_LABELs of every token object with CKA_APPLICATION = `app` (at most 100,000).
std::vector<std::string> labels_of(CK_FUNCTION_LIST_3_0* f, CK_SESSION_HANDLE s, const std::string& app);

}  // namespace ferrohsm::cluster_test
