#include "values/value_time.h"

#include <fmt/format.h>

namespace dbuild::exec {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms).
// (dbuild::days_from_civil in model/key_type.h is the same calendar for key values; these stay
// private to the exec stage's text conversions.)
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t days, int64_t* y, int* m, int* d) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

int days_in_month(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

/// A read position in the text being parsed.
struct Cursor {
  std::string_view s;
  size_t i = 0;

  bool done() const { return i == s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
  bool lit(char c) {
    if (peek() != c) return false;
    ++i;
    return true;
  }
  /// Reads between `min` and `max` decimal digits.
  bool digits(int min, int max, int* out) {
    int n = 0, v = 0;
    while (n < max && !done() && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + (s[i++] - '0');
      ++n;
    }
    *out = v;
    return n >= min;
  }
  void spaces() {
    while (!done() && (s[i] == ' ' || s[i] == '\t')) ++i;
  }
};

bool ieq(char a, char b) { return (a | 0x20) == (b | 0x20); }

bool match_name(Cursor& c, std::string_view name) {
  if (c.s.size() - c.i < name.size()) return false;
  for (size_t k = 0; k < name.size(); ++k) {
    if (!ieq(c.s[c.i + k], name[k])) return false;
  }
  c.i += name.size();
  return true;
}

bool month_name(Cursor& c, int* month) {
  static constexpr std::string_view kNames[] = {"january", "february", "march",     "april",
                                                "may",     "june",     "july",      "august",
                                                "september", "october", "november", "december"};
  for (int m = 0; m < 12; ++m) {
    if (match_name(c, kNames[m]) || match_name(c, kNames[m].substr(0, 3))) {
      *month = m + 1;
      return true;
    }
  }
  return false;
}

/// Z, ±HH, ±HHMM or ±HH:MM.
bool zone(Cursor& c, int* offset) {
  if (c.lit('Z')) {
    *offset = 0;
    return true;
  }
  int sign = c.lit('+') ? 1 : c.lit('-') ? -1 : 0;
  int hh = 0, mm = 0;
  if (sign == 0 || !c.digits(2, 2, &hh)) return false;
  bool colon = c.lit(':');
  if ((colon || (c.peek() >= '0' && c.peek() <= '9')) && !c.digits(2, 2, &mm)) return false;
  if (hh > 23 || mm > 59) return false;
  *offset = sign * (hh * 3600 + mm * 60);
  return true;
}

bool valid(const CivilTime& t) {
  return t.year >= 0 && t.year <= 9999 && t.month >= 1 && t.month <= 12 && t.day >= 1 &&
         t.day <= days_in_month(t.year, t.month) && t.hour <= 23 && t.minute <= 59 &&
         t.second <= 59;
}

bool iso_time(Cursor& c, CivilTime* t) {
  if (!c.digits(2, 2, &t->hour) || !c.lit(':') || !c.digits(2, 2, &t->minute)) return false;
  if (!c.lit(':')) return true;
  if (!c.digits(2, 2, &t->second)) return false;
  if (!c.lit('.')) return true;
  size_t start = c.i;
  while (!c.done() && c.peek() >= '0' && c.peek() <= '9') ++c.i;
  t->fraction.assign(c.s.substr(start, c.i - start));
  return c.i > start && c.i - start <= 9;
}

bool parse_iso(std::string_view text, CivilTime* t) {
  Cursor c{text};
  int year = 0;
  if (!c.digits(4, 4, &year) || !c.lit('-') || !c.digits(2, 2, &t->month) || !c.lit('-') ||
      !c.digits(2, 2, &t->day)) {
    return false;
  }
  t->year = year;
  if ((c.lit('T') || c.lit(' ')) && !iso_time(c, t)) return false;
  if (!c.done()) {
    if (!zone(c, &t->offset_seconds)) return false;
    t->has_offset = true;
  }
  return c.done() && valid(*t);
}

void put2(char* p, int64_t v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

void put_date(char* p, int64_t y, int m, int d) {
  put2(p, y / 100);
  put2(p + 2, y % 100);
  p[4] = '-';
  put2(p + 5, m);
  p[7] = '-';
  put2(p + 8, d);
}

}  // namespace

Result<TimeFormat> TimeFormat::compile(std::string_view format) {
  TimeFormat f;
  f.text_.assign(format);
  for (size_t i = 0; i < format.size(); ++i) {
    char ch = format[i];
    if (ch == ' ') {
      f.tokens_.push_back({' ', 0});
      continue;
    }
    if (ch != '%') {
      f.tokens_.push_back({0, ch});
      continue;
    }
    if (++i == format.size()) return Status::Error(fmt::format("format '{}' ends with '%'", format));
    char d = format[i];
    if (d == '%') {
      f.tokens_.push_back({0, '%'});
    } else if (d == 'F' || d == 'T') {
      char a = d == 'F' ? 'Y' : 'H', b = d == 'F' ? 'm' : 'M', e = d == 'F' ? 'd' : 'S';
      char sep = d == 'F' ? '-' : ':';
      f.tokens_.insert(f.tokens_.end(), {{a, 0}, {0, sep}, {b, 0}, {0, sep}, {e, 0}});
    } else if (std::string_view("YmdHMSbz").find(d) != std::string_view::npos) {
      f.tokens_.push_back({d, 0});
    } else {
      return Status::Error(fmt::format(
          "format '{}' uses %{}, which dbuild does not support (supported: %Y %m %d %H %M %S %b "
          "%z %F %T %%)",
          format, d));
    }
  }
  return f;
}

bool TimeFormat::parse_tokens(std::string_view text, CivilTime* t) const {
  Cursor c{text};
  int year = 1970;
  bool ok = true;
  for (const Token& tok : tokens_) {
    switch (tok.directive) {
      case 0: ok = c.lit(tok.literal); break;
      case ' ': c.spaces(); break;
      case 'Y': ok = c.digits(4, 4, &year); break;
      case 'm': ok = c.digits(1, 2, &t->month); break;
      case 'd': ok = c.digits(1, 2, &t->day); break;
      case 'H': ok = c.digits(1, 2, &t->hour); break;
      case 'M': ok = c.digits(1, 2, &t->minute); break;
      case 'S': ok = c.digits(1, 2, &t->second); break;
      case 'b': ok = month_name(c, &t->month); break;
      case 'z': ok = zone(c, &t->offset_seconds); t->has_offset = true; break;
    }
    if (!ok) return false;
  }
  t->year = year;
  return c.done() && valid(*t);
}

bool TimeFormat::parse(std::string_view text, CivilTime* out) const {
  *out = CivilTime{};
  return text_.empty() ? parse_iso(text, out) : parse_tokens(text, out);
}

bool TimeFormat::to_timestamp(std::string_view text, std::string* out) const {
  CivilTime t;
  if (!parse(text, &t)) return false;
  char buf[19];
  put_date(buf, t.year, t.month, t.day);
  buf[10] = ' ';
  put2(buf + 11, t.hour);
  buf[13] = ':';
  put2(buf + 14, t.minute);
  buf[16] = ':';
  put2(buf + 17, t.second);
  out->assign(buf, sizeof buf);
  if (!t.fraction.empty()) out->append(".").append(t.fraction);
  if (t.has_offset) {  // keep the local time and its offset: lossless, and the local day stays
    int off = t.offset_seconds < 0 ? -t.offset_seconds : t.offset_seconds;
    char z[6] = {t.offset_seconds < 0 ? '-' : '+', 0, 0, ':', 0, 0};
    put2(z + 1, off / 3600);
    put2(z + 4, off / 60 % 60);
    out->append(z, sizeof z);
  }
  return true;
}

bool TimeFormat::to_date(std::string_view text, std::string* out) const {
  CivilTime t;
  if (!parse(text, &t)) return false;  // the local date, as written
  char buf[10];
  put_date(buf, t.year, t.month, t.day);
  out->assign(buf, sizeof buf);
  return true;
}

std::string TimeFormat::describe(bool date) const {
  const char* what = date ? "date" : "timestamp";
  if (text_.empty()) {
    return date ? "an ISO 8601 date (YYYY-MM-DD)"
                : "an ISO 8601 timestamp (YYYY-MM-DD HH:MM:SS)";
  }
  return fmt::format("a {} matching {}", what, text_);
}

bool parse_iso_date(std::string_view s, int64_t* y, int* m, int* d) {
  Cursor c{s};
  int year = 0;
  if (!c.digits(4, 4, &year) || !c.lit('-') || !c.digits(2, 2, m) || !c.lit('-') ||
      !c.digits(2, 2, d) || !c.done()) {
    return false;
  }
  *y = year;
  return *m >= 1 && *m <= 12 && *d >= 1 && *d <= days_in_month(year, *m);
}

bool month_of(std::string_view s, std::string* out) {
  Cursor c{s};
  int year = 0, month = 0;
  if (!c.digits(4, 4, &year) || !c.lit('-') || !c.digits(2, 2, &month)) return false;
  if (month < 1 || month > 12 || !(c.done() || c.peek() == '-')) return false;
  out->assign(s.substr(0, 7));
  return true;
}

bool date_add(std::string_view s, int64_t n, std::string* out) {
  if (s.size() > 10 && s[10] != ' ' && s[10] != 'T') return false;
  int64_t y = 0;
  int m = 0, d = 0;
  if (!parse_iso_date(s.substr(0, 10), &y, &m, &d)) return false;
  constexpr int64_t kLimit = 4000000;  // ~10,000 years of days: keeps the arithmetic in range
  if (n > kLimit || n < -kLimit) return false;
  civil_from_days(days_from_civil(y, m, d) + n, &y, &m, &d);
  if (y < 0 || y > 9999) return false;
  char buf[10];
  put_date(buf, y, m, d);
  out->assign(buf, sizeof buf);
  return true;
}

}  // namespace dbuild::exec
