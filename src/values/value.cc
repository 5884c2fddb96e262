#include "values/value.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace dbuild::exec {

void set_text(Value& v, std::string_view s) {
  if (auto* str = std::get_if<std::string>(&v)) {
    str->assign(s.data(), s.size());
  } else {
    v.emplace<std::string>(s);
  }
}

namespace {

std::string quote_text(std::string_view s) {
  constexpr size_t kMax = 60;
  bool cut = s.size() > kMax;
  if (cut) s = s.substr(0, kMax);
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  out += cut ? "...'" : "'";
  return out;
}

}  // namespace

std::string format_value(const Value& v) {
  if (is_null(v)) return "NULL";
  if (auto* i = std::get_if<int64_t>(&v)) return fmt::format("{}", *i);
  if (auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return quote_text(std::get<std::string>(v));
}

bool parse_int64(std::string_view s, int64_t* out) {
  if (!s.empty() && s[0] == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s[0] == '-') return false;
  }
  if (s.empty() || s[0] == '+') return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool parse_double(std::string_view s, double* out) {
  if (!s.empty() && s[0] == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s[0] == '-') return false;
  }
  if (s.empty() || s[0] == '+') return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(*out);
}

namespace {

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

}  // namespace

bool parse_bool(std::string_view s, bool* out) {
  if (s == "1" || equals_ignore_case(s, "true")) {
    *out = true;
    return true;
  }
  if (s == "0" || equals_ignore_case(s, "false")) {
    *out = false;
    return true;
  }
  return false;
}

}  // namespace dbuild::exec
