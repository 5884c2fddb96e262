#include "engine/sqlite/sqlite_functions.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include "values/value_time.h"

namespace dbuild::exec {

RegexCache::RegexCache() = default;
RegexCache::~RegexCache() = default;

std::shared_ptr<const RE2> RegexCache::get(std::string_view pattern, std::string* error) {
  auto it = patterns_.find(std::string(pattern));
  if (it != patterns_.end()) return it->second;
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) {
    *error = fmt::format("invalid pattern '{}': {}", pattern, re->error());
    return nullptr;
  }
  if (patterns_.size() >= kMaxPatterns) patterns_.clear();
  patterns_.emplace(std::string(pattern), re);
  return re;
}

namespace {

std::string_view text_arg(sqlite3_value* v) {
  const char* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
  return {p ? p : "", static_cast<size_t>(sqlite3_value_bytes(v))};
}

bool any_null(int argc, sqlite3_value** argv) {
  for (int i = 0; i < argc; ++i) {
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) return true;
  }
  return false;
}

void result_text(sqlite3_context* ctx, std::string_view s) {
  sqlite3_result_text64(ctx, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

void result_error(sqlite3_context* ctx, const std::string& message) {
  sqlite3_result_error(ctx, message.c_str(), static_cast<int>(message.size()));
}

/// The compiled pattern of argument `arg`: kept with the statement when the argument is constant.
const RE2* pattern_arg(sqlite3_context* ctx, sqlite3_value** argv, int arg, const char* fn) {
  using Holder = std::shared_ptr<const RE2>;
  if (auto* held = static_cast<Holder*>(sqlite3_get_auxdata(ctx, arg))) return held->get();
  auto* cache = static_cast<RegexCache*>(sqlite3_user_data(ctx));
  std::string error;
  Holder re = cache->get(text_arg(argv[arg]), &error);
  if (!re) {
    result_error(ctx, fmt::format("{}: {}", fn, error));
    return nullptr;
  }
  const RE2* raw = re.get();
  sqlite3_set_auxdata(ctx, arg, new Holder(std::move(re)),
                      [](void* p) { delete static_cast<Holder*>(p); });
  return raw;  // still owned by the cache or, if the cache starts over, by the aux data
}

void fn_regexp(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (any_null(argc, argv)) return sqlite3_result_null(ctx);
  const RE2* re = pattern_arg(ctx, argv, 0, "regexp");
  if (!re) return;
  std::string_view text = text_arg(argv[1]);
  sqlite3_result_int(ctx, RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re));
}

void fn_regexp_extract(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (any_null(argc, argv)) return sqlite3_result_null(ctx);
  const RE2* re = pattern_arg(ctx, argv, 1, "regexp_extract");
  if (!re) return;
  int64_t group = argc > 2 ? sqlite3_value_int64(argv[2]) : 0;
  if (group < 0 || group > re->NumberOfCapturingGroups()) {
    return result_error(ctx, fmt::format("regexp_extract: group {} does not exist; the pattern has "
                                         "{} capturing groups",
                                         group, re->NumberOfCapturingGroups()));
  }
  std::string_view text = text_arg(argv[0]);
  std::vector<re2::StringPiece> m(static_cast<size_t>(group) + 1);
  re2::StringPiece in(text.data(), text.size());
  if (!re->Match(in, 0, in.size(), RE2::UNANCHORED, m.data(), static_cast<int>(m.size())) ||
      m.back().data() == nullptr) {
    return sqlite3_result_null(ctx);
  }
  result_text(ctx, std::string_view(m.back().data(), m.back().size()));
}

void fn_regexp_replace(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (any_null(argc, argv)) return sqlite3_result_null(ctx);
  const RE2* re = pattern_arg(ctx, argv, 1, "regexp_replace");
  if (!re) return;
  std::string_view rewrite = text_arg(argv[2]);
  re2::StringPiece rw(rewrite.data(), rewrite.size());
  std::string error;
  if (!re->CheckRewriteString(rw, &error)) {
    return result_error(ctx, fmt::format("regexp_replace: bad replacement '{}': {}", rewrite, error));
  }
  std::string text(text_arg(argv[0]));
  RE2::GlobalReplace(&text, *re, rw);
  result_text(ctx, text);
}

void fn_month_of(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (any_null(argc, argv)) return sqlite3_result_null(ctx);
  std::string_view in = text_arg(argv[0]);
  std::string out;
  if (!month_of(in, &out)) {
    return result_error(ctx, fmt::format("month_of: expected a date or timestamp, got '{}'", in));
  }
  result_text(ctx, out);
}

void fn_date_add(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (any_null(argc, argv)) return sqlite3_result_null(ctx);
  std::string_view in = text_arg(argv[0]);
  std::string out;
  if (sqlite3_value_numeric_type(argv[1]) != SQLITE_INTEGER) {
    return result_error(ctx, "date_add: the number of days must be an integer");
  }
  if (!date_add(in, sqlite3_value_int64(argv[1]), &out)) {
    return result_error(ctx, fmt::format("date_add: expected a date 'YYYY-MM-DD', got '{}'", in));
  }
  result_text(ctx, out);
}

/// parse_timestamp / parse_date: the compiled format is kept with the statement.
template <bool kDate>
void fn_parse_time(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (any_null(argc, argv)) return sqlite3_result_null(ctx);
  const char* fn = kDate ? "parse_date" : "parse_timestamp";
  auto* format = static_cast<TimeFormat*>(sqlite3_get_auxdata(ctx, 1));
  if (!format) {
    Result<TimeFormat> f = TimeFormat::compile(text_arg(argv[1]));
    if (!f.ok()) return result_error(ctx, fmt::format("{}: {}", fn, f.status().message()));
    format = new TimeFormat(std::move(*f));
    sqlite3_set_auxdata(ctx, 1, format, [](void* p) { delete static_cast<TimeFormat*>(p); });
    format = static_cast<TimeFormat*>(sqlite3_get_auxdata(ctx, 1));
    if (!format) return sqlite3_result_error_nomem(ctx);
  }
  std::string_view in = text_arg(argv[0]);
  std::string out;
  bool ok = kDate ? format->to_date(in, &out) : format->to_timestamp(in, &out);
  if (!ok) return result_error(ctx, fmt::format("{}: expected {}, got '{}'", fn, format->describe(kDate), in));
  result_text(ctx, out);
}

}  // namespace

Status register_functions(sqlite3* db, RegexCache* cache) {
  struct Fn {
    const char* name;
    int args;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  const Fn fns[] = {{"regexp", 2, fn_regexp},
                    {"regexp_extract", 2, fn_regexp_extract},
                    {"regexp_extract", 3, fn_regexp_extract},
                    {"regexp_replace", 3, fn_regexp_replace},
                    {"month_of", 1, fn_month_of},
                    {"date_add", 2, fn_date_add},
                    {"parse_timestamp", 2, fn_parse_time<false>},
                    {"parse_date", 2, fn_parse_time<true>}};
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  for (const Fn& f : fns) {
    if (sqlite3_create_function_v2(db, f.name, f.args, flags, cache, f.fn, nullptr, nullptr,
                                   nullptr) != SQLITE_OK) {
      return Status::Error(fmt::format("sqlite: cannot register {}: {}", f.name, sqlite3_errmsg(db)));
    }
  }
  return Status::Ok();
}

}  // namespace dbuild::exec
