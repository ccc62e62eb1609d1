// One libpq connection and the few types that speak over it: parameters (integers and
// text in text form, byte strings in binary form, so no escaping anywhere), results
// (asked for in binary form: a bytea is its bytes, an int8 its eight), and statements
// prepared once per connection on first use. Errors become CKR_DEVICE_ERROR with
// PostgreSQL's message; a lost connection says so and marks itself for the pool to
// drop, so the next call reconnects.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace ferrohsm {

// A statement: its name (per connection) and its text.
struct PgStatement {
  std::string name;
  std::string sql;
};

class PgParams {
 public:
  PgParams& add(int64_t v);
  PgParams& add(bool v);
  PgParams& add(std::string_view text);
  PgParams& add(const char* text) { return add(std::string_view(text)); }
  PgParams& add(const std::string& text) { return add(std::string_view(text)); }
  PgParams& add(ByteView bytes);  // bytea, binary
  PgParams& add_null();
  // Arrays, in PostgreSQL's text form (for unnest): bigint[], bytea[], boolean[].
  PgParams& add_array(const std::vector<int64_t>& v);
  PgParams& add_array(const std::vector<ByteView>& v);
  PgParams& add_array(const std::vector<bool>& v);
  int size() const { return static_cast<int>(values_.size()); }
  // Pointers into the stored values, for PQexecPrepared (valid while this lives).
  void arrays(std::vector<const char*>& values, std::vector<int>& lengths, std::vector<int>& formats) const;

 private:
  struct Value {
    std::string data;
    bool binary = false;
    bool null = false;
  };
  std::vector<Value> values_;
};

class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r, PQclear) {}
  int rows() const { return PQntuples(r_.get()); }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  int64_t int64(int row, int col) const;  // int2, int4, int8 or bool column; NULL is 0
  bool boolean(int row, int col) const { return int64(row, col) != 0; }
  Bytes bytes(int row, int col) const;    // bytea; NULL is empty
  std::string text(int row, int col) const;
  // Rows an INSERT/UPDATE/DELETE without RETURNING touched.
  int64_t affected() const;
  PGresult* raw() const { return r_.get(); }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

class PgConn {
 public:
  // `where` names the database in messages (never with a password).
  PgConn(PGconn* c, std::string where) : c_(c), where_(std::move(where)) {}
  ~PgConn() { PQfinish(c_); }
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // Runs `st` (prepared on this connection the first time) with `params`.
  Result<PgResult> run(const PgStatement& st, const PgParams& params = {});
  // Runs SQL text without parameters (BEGIN, COMMIT, DDL).
  Status exec(const std::string& sql);
  // The SQLSTATE of the last failure ("" when none or no server answer).
  const std::string& last_sqlstate() const { return sqlstate_; }
  // True once the connection is lost, or left inside a transaction: the pool drops it.
  bool unusable() const;
  bool lost() const { return lost_; }

 private:
  Error error(const PGresult* r, const std::string& what);

  PGconn* c_;
  std::string where_;
  std::unordered_set<std::string> prepared_;
  std::string sqlstate_;
  bool lost_ = false;
};

// Runs `body` in one transaction on `c`: BEGIN, body, COMMIT (ROLLBACK when body fails).
// Returns once the COMMIT answered, so the change is durable (synchronous_commit).
template <typename F>
Status pg_transaction(PgConn& c, F&& body) {
  FH_TRY(c.exec("BEGIN"));
  Status st = body();
  if (!st.ok()) {
    (void)c.exec("ROLLBACK");
    return st;
  }
  return c.exec("COMMIT");
}

}  // namespace ferrohsm
