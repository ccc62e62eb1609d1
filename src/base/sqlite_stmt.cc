#include "base/sqlite_stmt.h"

namespace ferrohsm {

Error sqlite_error(sqlite3* db, const std::string& what) {
  int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  CK_RV rv = CKR_DEVICE_ERROR;
  if ((code & 0xff) == SQLITE_FULL) rv = CKR_DEVICE_MEMORY;
  if ((code & 0xff) == SQLITE_NOMEM) rv = CKR_HOST_MEMORY;
  return make_error(rv, "store: " + what + ": " + (db ? sqlite3_errmsg(db) : "no database"));
}

Stmt::Stmt(sqlite3* db, const char* sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) s_ = nullptr;
}

Result<bool> Stmt::step() {
  if (s_ == nullptr) return sqlite_error(db_, "prepare");
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, "step");
}

Status Stmt::run() {
  for (;;) {
    FH_ASSIGN_OR_RETURN(bool row, step());
    if (!row) return {};
  }
}

Bytes Stmt::blob(int col) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s_, col));
  int n = sqlite3_column_bytes(s_, col);
  return p ? Bytes(p, p + n) : Bytes();
}

std::string Stmt::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : std::string();
}

}  // namespace ferrohsm
