#pragma once
/// SQL functions dbuild adds to every SQLite connection:
///   regexp(pattern, text)                 1 when RE2 `pattern` matches somewhere in text, else 0;
///                                         makes `text REGEXP 'pattern'` work
///   regexp_extract(text, pattern[, group]) the group's text (default 0: the whole match) of the
///                                         first match; NULL when there is none
///   regexp_replace(text, pattern, repl)   every match replaced; \1..\9 in repl name groups
///   month_of(date_or_timestamp)           'YYYY-MM'
///   date_add(date, n)                     'YYYY-MM-DD', n days later (n may be negative)
///   parse_timestamp(text, format)         'YYYY-MM-DD HH:MM:SS' in UTC (the loader's parser)
///   parse_date(text, format)              'YYYY-MM-DD' (UTC date)
/// A NULL argument gives NULL. A bad pattern, a bad format, or text that does not parse is an SQL
/// error naming the function and the value, so bad data is not silently turned into NULL.
/// All are deterministic and innocuous (safe in views, indexes and triggers).
#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"

namespace re2 {
class RE2;
}

namespace dbuild::exec {

/// Compiled RE2 patterns of one connection, by pattern text. Holds at most kMaxPatterns (then it
/// starts over). Within one statement, a constant pattern is also kept with the statement
/// (sqlite3_set_auxdata), so the cache is consulted once per statement, not per row.
/// Used by the connection's thread only.
class RegexCache {
 public:
  static constexpr size_t kMaxPatterns = 256;
  RegexCache();
  ~RegexCache();
  /// The compiled pattern, or nullptr with *error set when it does not compile.
  std::shared_ptr<const re2::RE2> get(std::string_view pattern, std::string* error);

 private:
  std::unordered_map<std::string, std::shared_ptr<const re2::RE2>> patterns_;
};

/// REQUIRES: `cache` outlives the connection `db`.
Status register_functions(sqlite3* db, RegexCache* cache);

}  // namespace dbuild::exec
