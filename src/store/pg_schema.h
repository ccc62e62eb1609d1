// The PostgreSQL store's schema, as numbered migrations applied at start. Every start
// reads the version; a database behind the code is migrated in one transaction under a
// transaction-level advisory lock, so two servers starting at once never both migrate
// (the second waits, then finds the work done); a database ahead of the code is refused,
// naming both versions.
#pragma once

#include "base/result.h"
#include "base/pg_conn.h"

#include <string>

namespace ferrohsm::store {

// The schema this code writes and reads.
int pg_schema_version();

// Brings the database `where` (for messages) up to pg_schema_version().
Status pg_migrate(PgConn& c, const std::string& where);

}  // namespace ferrohsm::store
