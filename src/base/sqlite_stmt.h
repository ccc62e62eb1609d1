// A thin RAII layer over sqlite3_stmt: bind by position, step, read columns.
// Either owns a statement it prepared (finalized at the end) or borrows one from the
// store's per-connection cache (prepared once; reset and unbound at the end, so the
// next user finds it fresh and no read transaction is left open).
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <sqlite3.h>

#include <string>

namespace ferrohsm {

Error sqlite_error(sqlite3* db, const std::string& what);

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql);
  // Borrows `cached` (may be nullptr after a failed prepare: step() then reports it).
  Stmt(sqlite3* db, sqlite3_stmt* cached) : db_(db), s_(cached), owned_(false) {}
  ~Stmt() {
    if (owned_) {
      sqlite3_finalize(s_);
    } else if (s_ != nullptr) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return s_ != nullptr; }
  Stmt& bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Stmt& bind(int i, ByteView v) {
    sqlite3_bind_blob(s_, i, v.empty() ? "" : static_cast<const void*>(v.data()), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // SQLITE_ROW → true, SQLITE_DONE → false, anything else → error.
  Result<bool> step();
  Status run();  // steps to completion
  void reset() { sqlite3_reset(s_); sqlite3_clear_bindings(s_); }
  int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
  Bytes blob(int col) const;
  std::string text(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  bool owned_ = true;
};

}  // namespace ferrohsm
