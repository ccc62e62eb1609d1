#include "base/pg_conninfo.h"

#include "base/bytes.h"
#include "base/log.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

namespace ferrohsm {
namespace {

constexpr size_t kMaxPasswordBytes = 1024;

Error target_error(const std::string& what) { return make_error(CKR_GENERAL_ERROR, "store.url: " + what); }

}  // namespace

Result<PgTarget> parse_pg_target(const std::string& url, const std::string& password_file) {
  if (url.empty()) return target_error("is empty (backend = \"postgres\" needs a postgresql:// URL or a libpq connection string)");
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> opts(PQconninfoParse(url.c_str(), &err),
                                                                      PQconninfoFree);
  if (!opts) {
    // libpq's message names the bad part; it never echoes a password value back.
    std::string why = err ? err : "cannot be parsed";
    PQfreemem(err);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return target_error(why);
  }
  std::map<std::string, std::string> set;
  for (PQconninfoOption* o = opts.get(); o->keyword != nullptr; ++o)
    if (o->val != nullptr && *o->val != '\0') set[o->keyword] = o->val;
  if (set.count("password"))
    return target_error("holds a password; put it in a file named by store.password_file (mode 0600), or in "
                        "PGPASSFILE / ~/.pgpass");
  PgTarget t;
  t.url = url;
  t.password_file = password_file;
  // A socket folder is a host too; it goes in the query, as libpq's URLs write it.
  const std::string host = set.count("host") ? set["host"] : "";
  const bool socket = !host.empty() && host[0] == '/';
  t.described = "postgresql://" + (set.count("user") ? set["user"] + "@" : std::string()) + (socket ? "" : host) +
                (set.count("port") ? ":" + set["port"] : "") + "/" + (set.count("dbname") ? set["dbname"] : "");
  std::string query;
  if (socket) query += "host=" + host;
  if (set.count("sslmode")) query += (query.empty() ? "" : "&") + std::string("sslmode=") + set["sslmode"];
  if (!query.empty()) t.described += "?" + query;
  return t;
}

Result<Secret> read_password_file(const std::string& path) {
  auto fail = [&](const std::string& why) {
    return make_error(CKR_GENERAL_ERROR, "store.password_file '" + path + "' " + why);
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return fail(std::string("cannot be read: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(std::string("cannot be read: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return fail("is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(std::string("may be read by its group or others (mode ") + mode + "); chmod 600 it");
  }
  char buf[kMaxPasswordBytes];
  size_t len = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf + len, sizeof buf - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(std::string("cannot be read: ") + std::strerror(errno));
    if (n == 0 || (len += static_cast<size_t>(n)) == sizeof buf) break;
  }
  size_t end = 0;
  while (end < len && buf[end] != '\n') ++end;
  if (end > 0 && buf[end - 1] == '\r') --end;
  Secret s(std::string_view(buf, end));
  secure_wipe(buf, sizeof buf);
  if (s.empty()) return fail("has an empty first line");
  return s;
}

namespace {
void debug_notice(void*, const char* message) { log().debug("PostgreSQL: {}", message); }
}  // namespace

Result<PGconn*> pg_connect(const PgTarget& target, const PgConnectOptions& o) {
  Secret password;
  if (!target.password_file.empty()) {
    FH_ASSIGN_OR_RETURN(password, read_password_file(target.password_file));
  }
  const std::string timeout = std::to_string(o.connect_timeout_s), idle = std::to_string(o.keepalives_idle_s),
                    interval = std::to_string(o.keepalives_interval_s), count = std::to_string(o.keepalives_count),
                    user_timeout = std::to_string(o.tcp_user_timeout_ms);
  // dbname last but one: expanded, the URL's own settings win over the ones above it.
  std::vector<const char*> keys = {"connect_timeout",     "fallback_application_name", "keepalives", "keepalives_idle",
                                   "keepalives_interval", "keepalives_count",          "tcp_user_timeout"};
  std::vector<const char*> values = {timeout.c_str(),  o.application,  "1", idle.c_str(),
                                     interval.c_str(), count.c_str(), user_timeout.c_str()};
  keys.push_back("dbname");
  values.push_back(target.url.c_str());
  if (!password.empty()) {
    keys.push_back("password");
    values.push_back(password.data());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* c = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (c == nullptr) return make_error(CKR_HOST_MEMORY, "libpq could not allocate a connection");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = PQerrorMessage(c);  // libpq's message never holds the password
    PQfinish(c);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    for (char& ch : why)
      if (ch == '\n') ch = ' ';
    return make_error(CKR_DEVICE_ERROR, "cannot connect to PostgreSQL at " + target.described + ": " + why);
  }
  PQsetNoticeProcessor(c, debug_notice, nullptr);
  return c;
}

}  // namespace ferrohsm
