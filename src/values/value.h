#pragma once
/// Value: one SQL scalar as dbuild handles it — partition key values, bound query parameters and
/// the typed fields the loader produces. Blobs never occur in keys or parameters; where a stored
/// blob is read back it is carried as a std::string of its bytes.
///
/// How partition key types are stored (text sorts in time order):
///   date 'YYYY-MM-DD' · month 'YYYY-MM' · hour 'YYYY-MM-DDTHH' · int integer · string text.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace dbuild::exec {

/// NULL (monostate), INTEGER, REAL or TEXT.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

inline bool is_null(const Value& v) { return std::holds_alternative<std::monostate>(v); }

/// Sets `v` to the text `s`, reusing `v`'s string buffer when it already holds text.
void set_text(Value& v, std::string_view s);

/// Renders a value the way SQL would write it, for messages: NULL, 42, 1.5, 'it''s'.
/// Long text is shortened to 60 bytes followed by "...'".
std::string format_value(const Value& v);

/// Strict whole-field conversions used by the loader. Each returns false (leaving *out unspecified)
/// when `s` is not entirely one value of the type: no surrounding spaces, no trailing junk.
/// Integers: optional '+'/'-' then decimal digits, within int64.
bool parse_int64(std::string_view s, int64_t* out);
/// Decimal or exponent notation; finite values only (no inf/nan).
bool parse_double(std::string_view s, double* out);
/// true/false (any case), 1/0.
bool parse_bool(std::string_view s, bool* out);

}  // namespace dbuild::exec
