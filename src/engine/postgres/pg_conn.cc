#include "engine/postgres/pg_conn.h"

#include <poll.h>

#include <cstdlib>

#include <fmt/format.h>

#include "base/interrupt.h"

namespace dbuild::exec::pg {

namespace {

// Type OIDs (pg_type.h) of the results converted to numbers.
constexpr Oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701,
              kNumeric = 1700, kOid = 26;

/// How long one poll waits before looking at the interrupt flag again.
constexpr int kPollMs = 50;

}  // namespace

int64_t PgResult::int64(int row, int col) const {
  return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
}

Value PgResult::value(int row, int col) const {
  if (null(row, col)) return Value();
  std::string t = text(row, col);
  switch (PQftype(r_.get(), col)) {
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid: {
      int64_t i = 0;
      if (parse_int64(t, &i)) return Value(i);
      return Value(t);
    }
    case kFloat4:
    case kFloat8:
    case kNumeric: {
      char* end = nullptr;
      double d = std::strtod(t.c_str(), &end);  // also NaN and Infinity
      if (end && *end == '\0' && !t.empty()) return Value(d);
      return Value(t);
    }
    case kBool: return Value(static_cast<int64_t>(t == "t" ? 1 : 0));
    default: return Value(std::move(t));
  }
}

void PgParams::add(const Value& v, Oid type) {
  text.push_back(value_text(v));
  null.push_back(is_null(v));
  types.push_back(type);
}

std::string value_text(const Value& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  return "";
}

std::string quote_ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

PgConn::PgConn(PGconn* conn, std::string schema, std::vector<std::string> secrets)
    : conn_(conn), schema_(std::move(schema)), secrets_(std::move(secrets)) {}

PgConn::~PgConn() { PQfinish(conn_); }

Result<std::unique_ptr<PgConn>> PgConn::connect(const ConnectionSettings& settings,
                                                const std::string& schema) {
  static const std::pair<const char*, const char*> kKeys[] = {
      {"host", "host"}, {"port", "port"}, {"database", "dbname"}, {"user", "user"},
      {"password", "password"}, {"sslmode", "sslmode"}};
  std::vector<const char*> keys, values;
  for (const auto& [ours, theirs] : kKeys) {
    auto it = settings.values.find(ours);
    if (it == settings.values.end() || it->second.empty()) continue;
    keys.push_back(theirs);
    values.push_back(it->second.c_str());
  }
  keys.push_back("application_name");
  values.push_back("dbuild");
  keys.push_back("connect_timeout");
  values.push_back("10");
  keys.push_back(nullptr);
  values.push_back(nullptr);
  std::vector<std::string> secrets;
  for (const std::string& k : settings.secrets) {
    auto it = settings.values.find(k);
    if (it != settings.values.end() && it->second.size() >= 3) secrets.push_back(it->second);
  }
  if (auto it = settings.values.find("password"); it != settings.values.end() && it->second.size() >= 3) {
    secrets.push_back(it->second);  // a password is a secret wherever it came from
  }
  PGconn* raw = PQconnectdbParams(keys.data(), values.data(), 0);
  std::unique_ptr<PgConn> conn(new PgConn(raw, schema, std::move(secrets)));
  if (!raw) return Status::Error("postgres: out of memory");
  if (PQstatus(raw) != CONNECTION_OK) return conn->connection_error("cannot connect");
  PQsetNoticeProcessor(raw, [](void*, const char*) {}, nullptr);
  PgParams path;
  path.add(Value(quote_ident(schema)));
  Result<PgResult> setup = conn->exec(
      "SELECT set_config('search_path', $1, false), set_config('TimeZone', 'UTC', false), "
      "set_config('DateStyle', 'ISO, YMD', false), set_config('client_min_messages', 'warning', false), "
      "set_config('extra_float_digits', '1', false), "
      "set_config('standard_conforming_strings', 'on', false)",
      path);
  if (!setup.ok()) return setup.status();
  return conn;
}

Status PgConn::connection_error(const std::string& what) const {
  std::string msg = PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return Status::Error(scrub(fmt::format("postgres: {}: {}", what, msg)));
}

std::string PgConn::scrub(std::string message) const {
  for (const std::string& s : secrets_) {
    for (size_t at = message.find(s); at != std::string::npos; at = message.find(s, at + 3)) {
      message.replace(at, s.size(), "***");
    }
  }
  return message;
}

std::string PgConn::result_error(PGresult* r, int* position) const {
  if (position) *position = 0;
  if (!r) return scrub(fmt::format("postgres: {}", PQerrorMessage(conn_)));
  const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  std::string msg = primary ? primary : PQresultErrorMessage(r);
  if (const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL)) {
    msg += fmt::format(" ({})", detail);
  }
  if (const char* hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT)) msg += fmt::format("; hint: {}", hint);
  if (const char* pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION); pos && position) {
    *position = std::atoi(pos);
  }
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return scrub("postgres: " + msg);
}

std::string PgConn::literal(const std::string& s) const {
  char* q = PQescapeLiteral(conn_, s.data(), s.size());
  if (!q) return "NULL";  // only on invalid encoding or out of memory; never unquoted text
  std::string out = q;
  PQfreemem(q);
  return out;
}

std::string PgConn::literal(const Value& v) const {
  if (is_null(v)) return "NULL";
  if (std::holds_alternative<std::string>(v)) return literal(std::get<std::string>(v));
  return literal(value_text(v)) + (std::holds_alternative<int64_t>(v) ? "::bigint" : "::float8");
}

std::string PgConn::qualified(const std::string& table) const {
  return quote_ident(schema_) + "." + quote_ident(table);
}

Result<PgResult> PgConn::exec(const std::string& sql, const PgParams& params, bool interruptible) {
  if (interruptible && interrupt_signal() != 0) return Status::Error("interrupted");
  std::vector<const char*> values;
  for (size_t i = 0; i < params.size(); ++i) {
    values.push_back(params.null[i] ? nullptr : params.text[i].c_str());
  }
  // Always the extended protocol, even without parameters: it takes exactly one statement, so
  // user SQL nested in ours can never smuggle in a second one (the simple protocol would run
  // "...) AS q; DROP TABLE t; SELECT (..." as three).
  int ok = PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(params.size()),
                             params.types.data(), values.data(), nullptr, nullptr, 0);
  if (!ok) return connection_error("cannot send a statement");
  return wait(interruptible);
}

Status PgConn::prepare(const std::string& sql, int* position) {
  if (interrupt_signal() != 0) return Status::Error("interrupted");
  if (!PQsendPrepare(conn_, "", sql.c_str(), 0, nullptr)) return connection_error("cannot send a statement");
  Result<PgResult> r = wait(true, position);
  return r.ok() ? Status::Ok() : r.status();
}

Result<PgResult> PgConn::describe() {
  if (!PQsendDescribePrepared(conn_, "")) return connection_error("cannot send a statement");
  return wait(true);
}

Result<PgResult> PgConn::wait(bool interruptible, int* position) {
  bool cancelled = false;
  PgResult first_error, last;
  for (;;) {
    while (PQisBusy(conn_)) {
      pollfd p{PQsocket(conn_), POLLIN, 0};
      ::poll(&p, 1, kPollMs);
      if (interruptible && !cancelled && interrupt_signal() != 0) {
        cancelled = true;
        if (PGcancel* c = PQgetCancel(conn_)) {
          char err[256];
          PQcancel(c, err, sizeof err);
          PQfreeCancel(c);
        }
      }
      if (!PQconsumeInput(conn_)) return connection_error("connection lost");
    }
    PGresult* r = PQgetResult(conn_);
    if (!r) break;
    PgResult res(r);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT) return res;  // the caller goes on
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !first_error.get()) first_error = res;
    last = res;
  }
  if (cancelled) return Status::Error("interrupted");
  if (first_error.get()) return Status::Error(result_error(first_error.get(), position));
  return last;
}

Status PgConn::copy_start(const std::string& sql) {
  Result<PgResult> r = exec(sql);
  if (!r.ok()) return r.status();
  if (PQresultStatus(r->get()) != PGRES_COPY_IN) return Status::Error("postgres: COPY did not start");
  return Status::Ok();
}

Status PgConn::copy_data(const std::string& data) {
  if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1) {
    return connection_error("sending COPY data");
  }
  return Status::Ok();
}

Status PgConn::copy_end(const std::string& error) {
  if (PQputCopyEnd(conn_, error.empty() ? nullptr : error.c_str()) != 1) {
    return connection_error("ending COPY");
  }
  Result<PgResult> r = wait(true);
  return r.ok() ? Status::Ok() : r.status();
}

PgTxn::~PgTxn() { rollback(); }

Status PgTxn::begin(bool read_only) {
  Result<PgResult> r = conn_.exec(read_only ? "BEGIN READ ONLY" : "BEGIN");
  if (!r.ok()) return r.status();
  open_ = true;
  return Status::Ok();
}

Status PgTxn::commit() {
  Result<PgResult> r = conn_.exec("COMMIT", {}, /*interruptible=*/false);
  open_ = false;
  return r.ok() ? Status::Ok() : r.status();
}

void PgTxn::rollback() {
  if (!open_) return;
  open_ = false;
  (void)conn_.exec("ROLLBACK", {}, /*interruptible=*/false);
}

}  // namespace dbuild::exec::pg
