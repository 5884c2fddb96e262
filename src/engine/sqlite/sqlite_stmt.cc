#include "engine/sqlite/sqlite_stmt.h"

#include <fmt/format.h>

namespace dbuild::exec {

std::string quote_ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"') out += '"';
  }
  out += '"';
  return out;
}

Status sqlite_error(sqlite3* db, std::string_view what) {
  return Status::Error(fmt::format("{}: {}", what, sqlite3_errmsg(db)));
}

Status exec_sql(sqlite3* db, const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) == SQLITE_OK) return Status::Ok();
  std::string text = message ? message : sqlite3_errmsg(db);
  sqlite3_free(message);
  return Status::Error(fmt::format("sqlite: {} (in: {})", text, sql));
}

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(st_);
    st_ = other.st_;
    other.st_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() { sqlite3_finalize(st_); }

Result<Stmt> Stmt::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &st, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(st);
    return Status::Error(fmt::format("sqlite: {} (in: {})", sqlite3_errmsg(db), sql));
  }
  return Stmt(st);
}

Status Stmt::bind(int index, const Value& v, bool copy) {
  int rc = SQLITE_OK;
  if (is_null(v)) {
    rc = sqlite3_bind_null(st_, index);
  } else if (auto* i = std::get_if<int64_t>(&v)) {
    rc = sqlite3_bind_int64(st_, index, *i);
  } else if (auto* d = std::get_if<double>(&v)) {
    rc = sqlite3_bind_double(st_, index, *d);
  } else {
    const std::string& s = std::get<std::string>(v);
    rc = sqlite3_bind_text64(st_, index, s.data(), s.size(), copy ? SQLITE_TRANSIENT : SQLITE_STATIC,
                             SQLITE_UTF8);
  }
  if (rc == SQLITE_OK) return Status::Ok();
  return sqlite_error(sqlite3_db_handle(st_), fmt::format("binding parameter {}", index));
}

Result<bool> Stmt::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Status::Error(fmt::format("sqlite: {}", sqlite3_errmsg(sqlite3_db_handle(st_))));
}

Status Stmt::run() {
  for (;;) {
    Result<bool> row = step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
  }
}

Value Stmt::column(int i) const {
  switch (sqlite3_column_type(st_, i)) {
    case SQLITE_NULL: return Value();
    case SQLITE_INTEGER: return Value(static_cast<int64_t>(sqlite3_column_int64(st_, i)));
    case SQLITE_FLOAT: return Value(sqlite3_column_double(st_, i));
    case SQLITE_BLOB: {
      const char* p = static_cast<const char*>(sqlite3_column_blob(st_, i));
      return Value(std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st_, i))));
    }
    default: {
      const char* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, i));
      return Value(std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st_, i))));
    }
  }
}

Status Transaction::begin() {
  Status s = exec_sql(db_, "BEGIN IMMEDIATE");
  open_ = s.ok();
  return s;
}

Status Transaction::commit() {
  Status s = exec_sql(db_, "COMMIT");
  if (!s.ok()) {
    rollback();
    return s;
  }
  open_ = false;
  return s;
}

void Transaction::rollback() {
  if (!open_) return;
  open_ = false;
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

namespace {

bool contains_ci(std::string_view hay, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (same_ident(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

}  // namespace

Affinity affinity_of(std::string_view t) {
  if (contains_ci(t, "INT")) return Affinity::Integer;
  if (contains_ci(t, "CHAR") || contains_ci(t, "CLOB") || contains_ci(t, "TEXT")) {
    return Affinity::Text;
  }
  if (t.empty() || contains_ci(t, "BLOB")) return Affinity::Blob;
  if (contains_ci(t, "REAL") || contains_ci(t, "FLOA") || contains_ci(t, "DOUB")) {
    return Affinity::Real;
  }
  return Affinity::Numeric;
}

bool stored_unchanged(Affinity a, int type) {
  if (type == SQLITE_NULL || type == SQLITE_BLOB || a == Affinity::Blob) return true;
  switch (a) {
    case Affinity::Text: return type == SQLITE_TEXT;
    case Affinity::Integer:
    case Affinity::Numeric: return type == SQLITE_INTEGER;
    case Affinity::Real: return type == SQLITE_FLOAT;
    case Affinity::Blob: return true;
  }
  return false;
}

bool same_ident(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace dbuild::exec
