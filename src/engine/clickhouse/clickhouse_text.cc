#include "engine/clickhouse/clickhouse_text.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace dbuild::exec {

namespace {

/// Backslash escapes shared by literals, identifiers and TabSeparated fields.
void escape_into(std::string* out, std::string_view s, char quote) {
  for (char c : s) {
    switch (c) {
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\t': *out += "\\t"; break;
      case '\r': *out += "\\r"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      case '\0': *out += "\\0"; break;
      default:
        if (c == quote) *out += '\\';
        *out += c;
    }
  }
}

std::string double_text(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  return fmt::format("{}", d);
}

/// Unescapes one TabSeparated field in place.
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case '0': out += '\0'; break;
      default: out += c;
    }
  }
  return out;
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::string ch_ident(std::string_view name) {
  std::string out = "`";
  escape_into(&out, name, '`');
  return out + "`";
}

std::string ch_table(std::string_view db, std::string_view table) {
  return ch_ident(db) + "." + ch_ident(table);
}

std::string ch_string(std::string_view s) {
  std::string out = "'";
  escape_into(&out, s, '\'');
  return out + "'";
}

std::string ch_literal(const Value& v) {
  if (std::holds_alternative<int64_t>(v)) {
    int64_t i = std::get<int64_t>(v);
    // A negative literal parses as negate(x); toInt64 keeps the type exact either way.
    return i < 0 ? fmt::format("toInt64('{}')", i) : fmt::format("{}", i);
  }
  if (std::holds_alternative<double>(v)) {
    return fmt::format("toFloat64('{}')", double_text(std::get<double>(v)));
  }
  if (std::holds_alternative<std::string>(v)) return ch_string(std::get<std::string>(v));
  return "NULL";
}

void tsv_append(std::string* out, const Value& v) {
  if (std::holds_alternative<int64_t>(v)) {
    fmt::format_to(std::back_inserter(*out), "{}", std::get<int64_t>(v));
  } else if (std::holds_alternative<double>(v)) {
    *out += double_text(std::get<double>(v));
  } else if (std::holds_alternative<std::string>(v)) {
    escape_into(out, std::get<std::string>(v), 0);
  } else {
    *out += "\\N";
  }
}

Result<TsvTable> parse_tsv_with_types(const std::string& body) {
  TsvTable t;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    std::string_view line(body.data() + pos, end - pos);
    pos = end + 1;
    std::vector<std::string> fields;
    std::vector<bool> nulls;
    size_t start = 0;
    for (;;) {
      size_t tab = line.find('\t', start);
      std::string_view f = line.substr(start, tab == std::string_view::npos ? line.npos : tab - start);
      nulls.push_back(f == "\\N");
      fields.push_back(unescape(f));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (line_no == 0) {
      t.names = std::move(fields);
    } else if (line_no == 1) {
      t.types = std::move(fields);
    } else {
      if (fields.size() != t.names.size()) {
        return Status::Error("clickhouse: malformed TabSeparated answer");
      }
      t.rows.push_back(std::move(fields));
      t.nulls.push_back(std::move(nulls));
    }
    ++line_no;
  }
  if (line_no < 2) return Status::Error("clickhouse: the answer has no header");
  return t;
}

std::string ch_base_type(std::string type) {
  for (bool again = true; again;) {
    again = false;
    for (std::string_view w : {"Nullable(", "LowCardinality("}) {
      if (starts_with(type, w) && type.back() == ')') {
        type = type.substr(w.size(), type.size() - w.size() - 1);
        again = true;
      }
    }
  }
  return type;
}

Value ch_value(const std::string& type, const std::string& field, bool null) {
  if (null) return std::monostate{};
  std::string base = ch_base_type(type);
  if (starts_with(base, "Int") || starts_with(base, "UInt")) {
    if (starts_with(base, "UInt64")) return static_cast<int64_t>(std::strtoull(field.c_str(), nullptr, 10));
    return static_cast<int64_t>(std::strtoll(field.c_str(), nullptr, 10));
  }
  if (starts_with(base, "Float") || starts_with(base, "Decimal")) {
    return std::strtod(field.c_str(), nullptr);
  }
  return field;
}

std::string ch_column_type(ColumnType type) {
  switch (type) {
    case ColumnType::String: return "Nullable(String)";
    case ColumnType::Int: return "Nullable(Int64)";
    case ColumnType::Float: return "Nullable(Float64)";
    case ColumnType::Bool: return "Nullable(UInt8)";
    case ColumnType::Date: return "Nullable(Date)";
    case ColumnType::Timestamp: return "Nullable(DateTime)";
  }
  return "Nullable(String)";
}

std::string ch_storage_type(const std::string& type) {
  std::string base = ch_base_type(type);
  if (base == "Nothing") return "Nullable(String)";
  if (starts_with(type, "Nullable(")) return type;
  if (starts_with(base, "Array(") || starts_with(base, "Tuple(") || starts_with(type, "LowCardinality(")) {
    return type;
  }
  return "Nullable(" + type + ")";
}

std::string ch_key_type(const Value& v) {
  if (std::holds_alternative<int64_t>(v)) return "Int64";
  if (std::holds_alternative<double>(v)) return "Float64";
  return "String";
}

}  // namespace dbuild::exec
