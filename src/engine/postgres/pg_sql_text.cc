#include "engine/postgres/pg_sql_text.h"

#include <cctype>
#include <functional>

#include <fmt/format.h>

namespace dbuild::exec::pg {

namespace {

constexpr Oid kInt8 = 20, kFloat8 = 701, kText = 25;

bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

/// The end of the quoted run starting at `i` (a quote char q); doubled quotes stay inside.
/// With `backslashes`, a backslash escapes the next character (E'...').
size_t skip_quoted(const std::string& s, size_t i, char q, bool backslashes) {
  for (size_t j = i + 1; j < s.size(); ++j) {
    if (backslashes && s[j] == '\\') {
      ++j;
    } else if (s[j] == q) {
      if (j + 1 < s.size() && s[j + 1] == q) {
        ++j;
      } else {
        return j + 1;
      }
    }
  }
  return s.size();
}

/// If a dollar quote $tag$ starts at `i`, the end of its literal; else npos.
size_t skip_dollar_quote(const std::string& s, size_t i) {
  size_t j = i + 1;
  while (j < s.size() && is_ident_char(s[j]) && s[j] != '$') ++j;
  if (j >= s.size() || s[j] != '$') return std::string::npos;
  std::string tag = s.substr(i, j - i + 1);
  size_t end = s.find(tag, j + 1);
  return end == std::string::npos ? s.size() : end + tag.size();
}

/// Calls `code(begin, end)` for each run of `sql` outside literals, identifiers and comments
/// (runs are [begin, end) byte ranges, in order).
void for_each_code_run(const std::string& s, const std::function<void(size_t, size_t)>& code) {
  size_t start = 0, i = 0;
  auto skip_to = [&](size_t end) {
    code(start, i);
    i = end;
    start = end;
  };
  while (i < s.size()) {
    char c = s[i];
    bool prev_ident = i > 0 && is_ident_char(s[i - 1]);
    if (c == '\'') {
      bool e = i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') && !(i > 1 && is_ident_char(s[i - 2]));
      skip_to(skip_quoted(s, i, '\'', e));
    } else if (c == '"') {
      skip_to(skip_quoted(s, i, '"', false));
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      size_t nl = s.find('\n', i);
      skip_to(nl == std::string::npos ? s.size() : nl);
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      size_t end = s.find("*/", i + 2);
      skip_to(end == std::string::npos ? s.size() : end + 2);
    } else if (c == '$' && !prev_ident && i + 1 < s.size() &&
               !std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      size_t end = skip_dollar_quote(s, i);
      if (end != std::string::npos) {
        skip_to(end);
      } else {
        ++i;
      }
    } else {
      ++i;
    }
  }
  code(start, s.size());
}

/// Calls `found(at, digits_end, number)` for each `marker`NNN in the code runs of `sql`.
void for_each_param(const std::string& sql, char marker,
                    const std::function<void(size_t, size_t, int)>& found) {
  for_each_code_run(sql, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      if (sql[i] != marker || (i > 0 && is_ident_char(sql[i - 1]))) continue;
      size_t j = i + 1;
      while (j < e && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
      if (j == i + 1 || j - i > 6) continue;
      found(i, j, std::stoi(sql.substr(i + 1, j - i - 1)));
      i = j - 1;
    }
  });
}

}  // namespace

std::set<int> parameter_numbers(const std::string& sql) {
  std::set<int> out;
  for_each_param(sql, '$', [&](size_t, size_t, int n) { out.insert(n); });
  return out;
}

namespace {

std::string rewrite_params(const std::string& sql, char marker, const std::function<std::string(int)>& with) {
  std::string out;
  size_t copied = 0;
  for_each_param(sql, marker, [&](size_t at, size_t end, int n) {
    out.append(sql, copied, at - copied);
    out += with(n);
    copied = end;
  });
  out.append(sql, copied, std::string::npos);
  return out;
}

}  // namespace

std::string replace_parameters(const std::string& sql, const std::function<std::string(int)>& with) {
  return rewrite_params(sql, '$', with);
}

std::string question_to_dollar(const std::string& sql) {
  return rewrite_params(sql, '?', [](int n) { return fmt::format("${}", n); });
}

std::string trim_statement(const std::string& sql) {
  size_t end = sql.size();
  while (end > 0 && (std::isspace(static_cast<unsigned char>(sql[end - 1])) || sql[end - 1] == ';')) --end;
  return sql.substr(0, end);
}

Result<PgParams> bind_user_params(const std::string& sql, const std::vector<Value>& values) {
  std::set<int> used = parameter_numbers(sql);
  if (!used.empty() && static_cast<size_t>(*used.rbegin()) > values.size()) {
    return Status::Error(fmt::format("the SQL uses ${} but only {} parameter values are given",
                                     *used.rbegin(), values.size()));
  }
  if (used.count(0)) return Status::Error("the SQL uses $0; parameters are numbered from $1");
  PgParams p;
  for (size_t i = 0; i < values.size(); ++i) {
    Oid type = 0;
    if (!used.count(static_cast<int>(i) + 1)) {
      type = std::holds_alternative<int64_t>(values[i])  ? kInt8
             : std::holds_alternative<double>(values[i]) ? kFloat8
                                                         : kText;
    }
    p.add(values[i], type);
  }
  return p;
}

int byte_offset(const std::string& sql, int position) {
  if (position <= 0) return -1;
  int chars = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    if ((static_cast<unsigned char>(sql[i]) & 0xC0) == 0x80) continue;  // a continuation byte
    if (++chars == position) return static_cast<int>(i);
  }
  return static_cast<int>(sql.size());
}

}  // namespace dbuild::exec::pg
