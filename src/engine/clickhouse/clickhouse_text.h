#pragma once
/// How dbuild's values and names become ClickHouse SQL text and TabSeparated data, and how
/// ClickHouse's TabSeparatedWithNamesAndTypes answers become Values.
///
/// ClickHouse 18.16 cannot bind query parameters over HTTP, so every value is rendered as a
/// literal: text in single quotes with '\' and '\'' (and control characters) backslash-escaped,
/// integers and finite doubles in decimal, NULL as NULL. Identifiers are back-quoted with the same
/// escapes. No other text is ever spliced into SQL.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/engine.h"
#include "loading/loader.h"
#include "values/value.h"

namespace dbuild::exec {

/// `name` back-quoted: `a``b` style escapes are not used; '`' and '\' get a backslash.
std::string ch_ident(std::string_view name);
/// db.table, both quoted.
std::string ch_table(std::string_view db, std::string_view table);
/// A string literal: 'it\'s'.
std::string ch_string(std::string_view s);
/// A literal of v: 42, 1.5, 'text', NULL.
std::string ch_literal(const Value& v);

/// Appends v to a TabSeparated row (\N for NULL; '\\', tab, newline, ... escaped).
void tsv_append(std::string* out, const Value& v);

/// A table read back: names, ClickHouse types and the rows' fields (already unescaped).
struct TsvTable {
  std::vector<std::string> names;
  std::vector<std::string> types;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::vector<bool>> nulls;  // per field: \N
};

/// Parses a TabSeparatedWithNamesAndTypes answer.
Result<TsvTable> parse_tsv_with_types(const std::string& body);

/// A field of ClickHouse type `type` as a Value: Int*/UInt* → int64, Float*/Decimal → double,
/// NULL → monostate, everything else (String, Date 'YYYY-MM-DD', DateTime 'YYYY-MM-DD HH:MM:SS',
/// ...) → its text.
Value ch_value(const std::string& type, const std::string& field, bool null);

/// The stored type of a loaded column: Nullable(String|Int64|Float64|UInt8|Date|DateTime).
std::string ch_column_type(ColumnType type);
/// The stored type of a query result column of type `type`: made Nullable where ClickHouse allows
/// it; Nullable(Nothing) (a bare NULL) becomes Nullable(String).
std::string ch_storage_type(const std::string& type);
/// The stored type of a key column holding `v`: Int64 for integers, Float64, else String.
std::string ch_key_type(const Value& v);
/// `type` without Nullable(...) / LowCardinality(...) wrappers.
std::string ch_base_type(std::string type);

}  // namespace dbuild::exec
