// The one private PostgreSQL server of the store_pg_tests binary (tests/support/
// pg_instance.h), started before the first test and stopped after the last. Each test
// opens its stores in a schema of its own (the connection's search_path), which costs
// a few catalog rows where a database per test would copy a template (and fsync it).
#pragma once

#include "base/object_store.h"
#include "support/pg_instance.h"

#include <string>

namespace ferrohsm::store::pgtest {

testing::PgInstance& server();
// A schema name from any text (a test name, a temporary folder).
std::string schema_name(const std::string& from);
// The connection string for schema `schema` (which need not exist).
std::string url_for(const std::string& schema);
// Settings for a PostgreSQL store in schema `schema` of the server (created if new).
StoreSettings settings_for(const std::string& schema);
// A token row labelled `label` in `st` (a fresh slot id); 0, failing the test, if refused.
int64_t make_token(ObjectStore& st, const std::string& label);

}  // namespace ferrohsm::store::pgtest
