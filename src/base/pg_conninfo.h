// Where a PostgreSQL store is and how to log in to it: the configured URL
// ("postgresql://…") or libpq connection string, and the password — only ever from a
// file of mode 0600 or stricter (store.password_file), or from libpq's own PGPASSFILE /
// ~/.pgpass. A URL that holds a password is refused, so none is ever written in the
// configuration, on a command line or in a log; what the log shows is describe().
#pragma once

#include "base/result.h"
#include "base/secret.h"

#include <libpq-fe.h>

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

// How a connection is opened; the defaults suit a store's pool. TCP keepalives (unless
// the URL says otherwise) notice a peer that vanished without a word (a host lost, a
// partition); a TCP user timeout (0: the kernel's) bounds a write to such a peer.
struct PgConnectOptions {
  const char* application = "ferrohsm";  // fallback_application_name
  int connect_timeout_s = 10;
  int keepalives_idle_s = 10;
  int keepalives_interval_s = 5;
  int keepalives_count = 3;
  int tcp_user_timeout_ms = 0;
};

// Opens a connection to `target`. The password is read from its file at every call (a
// rotated file is taken up) and lives only until libpq has it; without a file, libpq
// reads PGPASSFILE / ~/.pgpass itself. Server notices go to the debug log. A failure is
// CKR_DEVICE_ERROR with libpq's message on one line (it never holds the password); an
// unreadable password file is that file's error. The caller owns the connection.
Result<PGconn*> pg_connect(const PgTarget& target, const PgConnectOptions& options = {});

}  // namespace ferrohsm
