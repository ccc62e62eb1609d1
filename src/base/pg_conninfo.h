// Where a PostgreSQL store is and how to log in to it: the configured URL
// ("postgresql://…") or libpq connection string, and the password — only ever from a
// file of mode 0600 or stricter (store.password_file), or from libpq's own PGPASSFILE /
// ~/.pgpass. A URL that holds a password is refused, so none is ever written in the
// configuration, on a command line or in a log; what the log shows is describe().
#pragma once

#include "base/result.h"
#include "base/secret.h"

#include <string>

namespace ferrohsm {

struct PgTarget {
  std::string url;            // as configured (holds no password: checked by parse)
  std::string password_file;  // "" : libpq's PGPASSFILE / ~/.pgpass, or no password
  std::string described;      // "postgresql://user@host:port/db?sslmode=…", no password
};

// Checks the URL or connection string (libpq parses it) and that it holds no password.
Result<PgTarget> parse_pg_target(const std::string& url, const std::string& password_file);

// The first line of the password file. It must be a regular file that neither its group
// nor others may read (the rule libpq applies to ~/.pgpass).
Result<Secret> read_password_file(const std::string& path);

}  // namespace ferrohsm
