#pragma once
/// Dates and timestamps as dbuild stores them: text that sorts in time order.
///   date      'YYYY-MM-DD'
///   timestamp 'YYYY-MM-DD HH:MM:SS', with '.fraction' only when the input had one, and the
///             UTC offset '±HH:MM' when the input had one: the local time is kept (so the local
///             day is its first ten characters) and SQLite's date functions apply the offset
/// TimeFormat is the small strptime-like parser shared by the loader and the SQL function
/// parse_timestamp(). It implements the directives itself because glibc's strptime ignores the
/// offset of %z.
/// Pure functions and immutable objects: thread-safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dbuild::exec {

/// A point in civil time as read from text, before the UTC offset is applied.
struct CivilTime {
  int64_t year = 1970;
  int month = 1;   // 1..12
  int day = 1;     // 1..31, valid for the month
  int hour = 0;    // 0..23
  int minute = 0;  // 0..59
  int second = 0;  // 0..59
  std::string fraction;    // digits after the decimal point of the seconds; empty: none
  int offset_seconds = 0;  // east of UTC: "-0400" is -14400
  bool has_offset = false; // the text gave an offset (%z, or a zone in ISO 8601)
};

/// A compiled format. Supported directives:
///   %Y year (4 digits) · %m month (1-2 digits) · %d day (1-2) · %H hour (1-2) · %M minute (1-2)
///   %S second (1-2) · %b month name, abbreviated or full, any case · %z Z, ±HH, ±HHMM or ±HH:MM
///   %F = %Y-%m-%d · %T = %H:%M:%S · %% a literal '%'
/// A space in the format matches any run of whitespace, including none (as strptime does); any
/// other character matches itself. The empty format means ISO 8601:
///   YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|±HH[:MM]|±HHMM]
class TimeFormat {
 public:
  /// ISO 8601.
  TimeFormat() = default;
  /// Fails on an unknown directive or a trailing '%', naming it.
  static Result<TimeFormat> compile(std::string_view format);

  /// Parses all of `text`. Returns false when it does not match or names an invalid date/time.
  bool parse(std::string_view text, CivilTime* out) const;
  /// parse(), then renders the timestamp into *out (reusing its buffer).
  bool to_timestamp(std::string_view text, std::string* out) const;
  /// parse(), then renders the UTC date into *out.
  bool to_date(std::string_view text, std::string* out) const;

  /// The format as given ("" for ISO), for messages.
  const std::string& text() const { return text_; }
  /// "a timestamp matching %d/%b/%Y" or "an ISO 8601 timestamp (YYYY-MM-DD HH:MM:SS)".
  std::string describe(bool date) const;

 private:
  /// One element of a compiled format: a directive or a literal byte.
  struct Token {
    char directive;  // 'Y','m','d','H','M','S','b','z', ' ' for whitespace, 0 for a literal
    char literal;    // the byte to match when directive == 0
  };
  bool parse_tokens(std::string_view text, CivilTime* out) const;

  std::string text_;
  std::vector<Token> tokens_;  // empty: ISO 8601
};

/// Strict 'YYYY-MM-DD'.
bool parse_iso_date(std::string_view s, int64_t* y, int* m, int* d);
/// 'YYYY-MM' of a date, month, hour key or timestamp ("2024-03-05 10:00:00" → "2024-03").
/// False when `s` does not start with a valid 'YYYY-MM' followed by nothing or '-'.
bool month_of(std::string_view s, std::string* out);
/// The date `n` days after the date part of `s` (a date, or a timestamp whose 11th byte is ' ' or
/// 'T'), as 'YYYY-MM-DD'. False when `s` is not such a date or the result leaves years 0..9999.
bool date_add(std::string_view s, int64_t n, std::string* out);

}  // namespace dbuild::exec
