#pragma once
/// Partition key types and the text form of their values.
/// Every key value is an int64 internally: dates count days since 1970-01-01, months count
/// months since 1970-01, hours count hours since 1970-01-01T00, ints are themselves, and
/// strings are indices into a string pool owned by the caller. The text form is what users
/// type after `@`: 2024-03-05, 2024-03, 2024-03-05T13, 42, US.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dbuild {

enum class KeyType { Date, Month, Hour, Int, String };

/// Parses a type name (`date`, `month`, `hour`, `int`, `string`).
std::optional<KeyType> parse_key_type(std::string_view name);
const char* key_type_name(KeyType type);
/// Ordered types support shifts and windows (all but String).
inline bool is_ordered(KeyType t) { return t != KeyType::String; }
/// An example value in text form, for hints.
const char* key_type_example(KeyType type);

/// Parses the text form of an ordered type's value. REQUIRES: type != String.
std::optional<int64_t> parse_key_value(KeyType type, std::string_view text);
/// Formats an ordered type's value. REQUIRES: type != String.
std::string format_key_value(KeyType type, int64_t value);

// Calendar helpers (proleptic Gregorian), exact for all int64 day counts in range.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t days, int64_t& y, unsigned& m, unsigned& d);
/// The month (months since 1970-01) containing a day.
int64_t month_of_day(int64_t day);
/// The first day of a month, and the first day of the next one.
int64_t first_day_of_month(int64_t month);

}  // namespace dbuild
