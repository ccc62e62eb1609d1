#include "base/pg_conn.h"

#include <arpa/inet.h>

#include <cstring>

namespace ferrohsm {
namespace {

// Type oids (PostgreSQL's catalog/pg_type.dat; stable since 7.x).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

uint64_t be(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = v << 8 | static_cast<unsigned char>(p[i]);
  return v;
}

std::string first_line(const char* m) {
  std::string s = m ? m : "";
  s.erase(0, s.find_first_not_of(" \n"));
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s.empty() ? std::string("no answer") : s;
}

}  // namespace

PgParams& PgParams::add(int64_t v) {
  values_.push_back({std::to_string(v), false, false});
  return *this;
}

PgParams& PgParams::add(bool v) {
  values_.push_back({v ? "t" : "f", false, false});
  return *this;
}

PgParams& PgParams::add(std::string_view text) {
  values_.push_back({std::string(text), false, false});
  return *this;
}

PgParams& PgParams::add(ByteView bytes) {
  values_.push_back({std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), true, false});
  return *this;
}

PgParams& PgParams::add_null() {
  values_.push_back({std::string(), false, true});
  return *this;
}

PgParams& PgParams::add_array(const std::vector<int64_t>& v) {
  std::string t = "{";
  for (size_t i = 0; i < v.size(); ++i) t += (i ? "," : "") + std::to_string(v[i]);
  return add(std::string_view(t += "}"));
}

PgParams& PgParams::add_array(const std::vector<ByteView>& v) {
  // Each element "\\x<hex>": bytea's hex form, its backslash escaped for the array.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string t = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    t += i ? ",\"\\\\x" : "\"\\\\x";
    for (uint8_t b : v[i]) t += {kHex[b >> 4], kHex[b & 15]};
    t += '"';
  }
  return add(std::string_view(t += "}"));
}

PgParams& PgParams::add_array(const std::vector<bool>& v) {
  std::string t = "{";
  for (size_t i = 0; i < v.size(); ++i) t += i ? (v[i] ? ",t" : ",f") : (v[i] ? "t" : "f");
  return add(std::string_view(t += "}"));
}

void PgParams::arrays(std::vector<const char*>& values, std::vector<int>& lengths, std::vector<int>& formats) const {
  for (const Value& v : values_) {
    values.push_back(v.null ? nullptr : v.data.data());
    lengths.push_back(static_cast<int>(v.data.size()));
    formats.push_back(v.binary ? 1 : 0);
  }
}

int64_t PgResult::int64(int row, int col) const {
  if (null(row, col)) return 0;
  const char* p = PQgetvalue(r_.get(), row, col);
  switch (PQftype(r_.get(), col)) {
    case kInt8Oid: return static_cast<int64_t>(be(p, 8));
    case kInt4Oid: return static_cast<int32_t>(be(p, 4));
    case kInt2Oid: return static_cast<int16_t>(be(p, 2));
    case kBoolOid: return p[0] != 0;
    default: return 0;  // a statement of ours asked for a column of another type: a bug the tests show
  }
}

Bytes PgResult::bytes(int row, int col) const {
  const auto* p = reinterpret_cast<const uint8_t*>(PQgetvalue(r_.get(), row, col));
  return Bytes(p, p + PQgetlength(r_.get(), row, col));
}

std::string PgResult::text(int row, int col) const {
  return std::string(PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

int64_t PgResult::affected() const {
  const char* n = PQcmdTuples(r_.get());
  return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
}

bool PgConn::unusable() const {
  return lost_ || PQstatus(c_) != CONNECTION_OK || PQtransactionStatus(c_) != PQTRANS_IDLE;
}

Error PgConn::error(const PGresult* r, const std::string& what) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  sqlstate_ = state ? state : "";
  // Class 08 (connection exception), 57P01-03 (the server is shutting down or cannot
  // be reached), or libpq's own view: the connection is gone.
  if (PQstatus(c_) != CONNECTION_OK || sqlstate_.rfind("08", 0) == 0 || sqlstate_.rfind("57P", 0) == 0) lost_ = true;
  const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const std::string msg = first_line(primary ? primary : r ? PQresultErrorMessage(r) : PQerrorMessage(c_));
  if (lost_)
    return make_error(CKR_DEVICE_ERROR, "store: lost the connection to PostgreSQL at " + where_ + " (" + msg +
                                            "); the next call reconnects");
  // 25006: a write in a read-only transaction (a hot standby, default_transaction_read_only).
  if (sqlstate_ == "25006")
    return make_error(CKR_TOKEN_WRITE_PROTECTED, "store: PostgreSQL at " + where_ + " is read-only: " + msg);
  return make_error(CKR_DEVICE_ERROR, "store: PostgreSQL " + what + ": " + msg +
                                          (sqlstate_.empty() ? "" : " (SQLSTATE " + sqlstate_ + ")"));
}

Result<PgResult> PgConn::run(const PgStatement& st, const PgParams& params) {
  sqlstate_.clear();
  if (!prepared_.count(st.name)) {
    PgResult prep(PQprepare(c_, st.name.c_str(), st.sql.c_str(), params.size(), nullptr));
    if (PQresultStatus(prep.raw()) != PGRES_COMMAND_OK) return error(prep.raw(), "prepare " + st.name);
    prepared_.insert(st.name);
  }
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  params.arrays(values, lengths, formats);
  PgResult r(PQexecPrepared(c_, st.name.c_str(), params.size(), values.data(), lengths.data(), formats.data(),
                            /*resultFormat=*/1));
  const ExecStatusType s = PQresultStatus(r.raw());
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) return error(r.raw(), st.name);
  return r;
}

Status PgConn::exec(const std::string& sql) {
  sqlstate_.clear();
  PgResult r(PQexec(c_, sql.c_str()));
  const ExecStatusType s = PQresultStatus(r.raw());
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) return error(r.raw(), first_line(sql.c_str()));
  return {};
}

}  // namespace ferrohsm
