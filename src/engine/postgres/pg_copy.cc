#include "engine/postgres/pg_copy.h"

#include "base/interrupt.h"

namespace dbuild::exec::pg {

namespace {

/// COPY data is handed to libpq in pieces of about this size.
constexpr size_t kChunk = 256 * 1024;

void append_row(std::string& out, const std::vector<Value>& prefix, const std::vector<Value>& row) {
  bool first = true;
  for (const std::vector<Value>* part : {&prefix, &row}) {
    for (const Value& v : *part) {
      if (!first) out += '\t';
      first = false;
      append_copy_field(out, v);
    }
  }
  out += '\n';
}

/// Sends `buf` when it is big enough (or `force`), then empties it.
Status flush(PgConn& conn, std::string& buf, bool force) {
  if (buf.empty() || (!force && buf.size() < kChunk)) return Status::Ok();
  Status s = conn.copy_data(buf);
  buf.clear();
  return s;
}

/// Ends a COPY after `failure` (if any): the server aborts it; the failure is what counts.
Status finish(PgConn& conn, std::string& buf, const Status& failure) {
  if (!failure.ok()) {
    (void)conn.copy_end("aborted by dbuild");
    return failure;
  }
  if (Status s = flush(conn, buf, true); !s.ok()) {
    (void)conn.copy_end("aborted by dbuild");
    return s;
  }
  return conn.copy_end();
}

}  // namespace

void append_copy_field(std::string& out, const Value& v) {
  if (is_null(v)) {
    out += "\\N";
    return;
  }
  if (!std::holds_alternative<std::string>(v)) {
    out += value_text(v);
    return;
  }
  for (char c : std::get<std::string>(v)) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
}

Status copy_from_loader(PgConn& conn, const std::string& copy_sql, const std::vector<Value>& prefix,
                        Loader& loader) {
  if (Status s = conn.copy_start(copy_sql); !s.ok()) return s;
  std::string buf;
  std::vector<Value> row;
  Status failure;
  for (;;) {
    if (interrupt_signal() != 0) {
      failure = Status::Error("interrupted");
      break;
    }
    Result<bool> more = loader.next(&row);
    if (!more.ok()) {
      failure = more.status();
      break;
    }
    if (!*more) break;
    append_row(buf, prefix, row);
    if (failure = flush(conn, buf, false); !failure.ok()) break;
  }
  return finish(conn, buf, failure);
}

Status copy_rows(PgConn& conn, const std::string& copy_sql, const std::vector<std::vector<Value>>& rows) {
  if (Status s = conn.copy_start(copy_sql); !s.ok()) return s;
  std::string buf;
  Status failure;
  for (const std::vector<Value>& row : rows) {
    append_row(buf, {}, row);
    if (failure = flush(conn, buf, false); !failure.ok()) break;
  }
  return finish(conn, buf, failure);
}

}  // namespace dbuild::exec::pg
