#include "model/key_type.h"

#include <charconv>

#include <fmt/format.h>

namespace dbuild {

std::optional<KeyType> parse_key_type(std::string_view name) {
  if (name == "date") return KeyType::Date;
  if (name == "month") return KeyType::Month;
  if (name == "hour") return KeyType::Hour;
  if (name == "int") return KeyType::Int;
  if (name == "string") return KeyType::String;
  return std::nullopt;
}

const char* key_type_name(KeyType type) {
  switch (type) {
    case KeyType::Date: return "date";
    case KeyType::Month: return "month";
    case KeyType::Hour: return "hour";
    case KeyType::Int: return "int";
    case KeyType::String: return "string";
  }
  return "?";
}

const char* key_type_example(KeyType type) {
  switch (type) {
    case KeyType::Date: return "2024-03-05";
    case KeyType::Month: return "2024-03";
    case KeyType::Hour: return "2024-03-05T13";
    case KeyType::Int: return "42";
    case KeyType::String: return "US";
  }
  return "?";
}

// Howard Hinnant's civil calendar algorithms.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

int64_t month_of_day(int64_t day) {
  int64_t y;
  unsigned m, d;
  civil_from_days(day, y, m, d);
  return (y - 1970) * 12 + (m - 1);
}

int64_t first_day_of_month(int64_t month) {
  int64_t y = 1970 + (month >= 0 ? month / 12 : (month - 11) / 12);
  unsigned m = static_cast<unsigned>(month - (y - 1970) * 12) + 1;
  return days_from_civil(y, m, 1);
}

namespace {

bool parse_digits(std::string_view s, size_t n, int64_t& out) {
  if (s.size() != n) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  std::from_chars(s.data(), s.data() + s.size(), out);
  return true;
}

unsigned days_in_month(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

std::optional<int64_t> parse_month(std::string_view t, int64_t& y, int64_t& m) {
  if (t.size() != 7 || t[4] != '-') return std::nullopt;
  if (!parse_digits(t.substr(0, 4), 4, y) || !parse_digits(t.substr(5, 2), 2, m)) return std::nullopt;
  if (m < 1 || m > 12) return std::nullopt;
  return (y - 1970) * 12 + (m - 1);
}

std::optional<int64_t> parse_date(std::string_view t) {
  int64_t y, m, d;
  if (t.size() != 10 || t[7] != '-' || !parse_month(t.substr(0, 7), y, m)) return std::nullopt;
  if (!parse_digits(t.substr(8, 2), 2, d)) return std::nullopt;
  if (d < 1 || d > days_in_month(y, static_cast<unsigned>(m))) return std::nullopt;
  return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

}  // namespace

std::optional<int64_t> parse_key_value(KeyType type, std::string_view text) {
  switch (type) {
    case KeyType::Date: return parse_date(text);
    case KeyType::Month: {
      int64_t y, m;
      return parse_month(text, y, m);
    }
    case KeyType::Hour: {
      int64_t h;
      if (text.size() != 13 || (text[10] != 'T' && text[10] != ' ')) return std::nullopt;
      auto day = parse_date(text.substr(0, 10));
      if (!day || !parse_digits(text.substr(11, 2), 2, h) || h > 23) return std::nullopt;
      return *day * 24 + h;
    }
    case KeyType::Int: {
      int64_t v;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return std::nullopt;
      return v;
    }
    case KeyType::String: return std::nullopt;
  }
  return std::nullopt;
}

std::string format_key_value(KeyType type, int64_t v) {
  int64_t y;
  unsigned m, d;
  switch (type) {
    case KeyType::Date:
      civil_from_days(v, y, m, d);
      return fmt::format("{:04}-{:02}-{:02}", y, m, d);
    case KeyType::Month: {
      int64_t year = 1970 + (v >= 0 ? v / 12 : (v - 11) / 12);
      return fmt::format("{:04}-{:02}", year, v - (year - 1970) * 12 + 1);
    }
    case KeyType::Hour: {
      int64_t day = v >= 0 ? v / 24 : (v - 23) / 24;
      civil_from_days(day, y, m, d);
      return fmt::format("{:04}-{:02}-{:02}T{:02}", y, m, d, v - day * 24);
    }
    case KeyType::Int: return std::to_string(v);
    case KeyType::String: return {};
  }
  return {};
}

}  // namespace dbuild
