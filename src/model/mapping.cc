#include "model/mapping.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace dbuild {
namespace {

int find_key(const std::vector<PartitionKeyDef>& keys, std::string_view name) {
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string key_names(const std::vector<PartitionKeyDef>& keys) {
  if (keys.empty()) return "none: the table is unpartitioned";
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k.name;
  return out;
}

/// A key reference with an optional shift: `day`, `day - 1`, `hour + 2`.
struct Shifted {
  int key = -1;
  int64_t offset = 0;
};

std::optional<Shifted> shifted(const ast::Expr& e, const std::vector<PartitionKeyDef>& out,
                               Diagnostics& diags) {
  using K = ast::Expr::Kind;
  if (e.kind == K::Identifier) {
    int k = find_key(out, e.text);
    if (k < 0) {
      diags.error(e.span, fmt::format("`{}` is not a partition key of this table", e.text),
                  fmt::format("the table's keys are: {}", key_names(out)));
      return std::nullopt;
    }
    return Shifted{k, 0};
  }
  if (e.kind == K::Binary && (e.text == "+" || e.text == "-") && e.children.size() == 2 &&
      e.children[1].kind == K::Number) {
    auto base = shifted(e.children[0], out, diags);
    if (!base) return std::nullopt;
    int64_t n = 0;
    const std::string& t = e.children[1].text;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    if (ec != std::errc() || p != t.data() + t.size()) {
      diags.error(e.children[1].span, "a shift is a whole number, as in `day - 6`");
      return std::nullopt;
    }
    if (!is_ordered(out[base->key].type)) {
      diags.error(e.span, fmt::format("cannot shift the {} key `{}`", key_type_name(out[base->key].type),
                                      out[base->key].name),
                  "only date, month, hour and int keys have an order");
      return std::nullopt;
    }
    int64_t shift = 0;
    bool overflow = n > kMaxShift || __builtin_add_overflow(base->offset, e.text == "+" ? n : -n, &shift);
    if (overflow || shift > kMaxShift || shift < -kMaxShift) {
      diags.error(e.span, fmt::format("shift too large: at most {} steps either way", kMaxShift),
                  "a shift moves by whole steps of the key (days for a date key), as in `day - 6`");
      return std::nullopt;
    }
    base->offset = shift;
    return base;
  }
  diags.error(e.span, "expected a partition key, optionally shifted (`day - 1`)");
  return std::nullopt;
}

bool expect_type(const ast::Expr& e, KeyType got, const PartitionKeyDef& in_key, Diagnostics& diags) {
  if (got == in_key.type) return true;
  diags.error(e.span,
              fmt::format("this term gives {} values, but the input key `{}` is a {}",
                          key_type_name(got), in_key.name, key_type_name(in_key.type)),
              in_key.type == KeyType::Month && (got == KeyType::Date || got == KeyType::Hour)
                  ? "use month(KEY) to read the month that holds each partition"
                  : "");
  return false;
}

std::optional<MapTerm> call_term(const ast::Expr& e, const PartitionKeyDef& in_key,
                                 const std::vector<PartitionKeyDef>& out, Diagnostics& diags) {
  struct Fn { const char* name; MapTerm::Kind kind; KeyType from1, from2, to; };
  static const Fn kFns[] = {
      {"month", MapTerm::Kind::Month, KeyType::Date, KeyType::Hour, KeyType::Month},
      {"date", MapTerm::Kind::Date, KeyType::Hour, KeyType::Hour, KeyType::Date},
      {"days", MapTerm::Kind::Days, KeyType::Month, KeyType::Month, KeyType::Date},
      {"hours", MapTerm::Kind::Hours, KeyType::Date, KeyType::Date, KeyType::Hour},
  };
  for (const Fn& fn : kFns) {
    if (e.text != fn.name) continue;
    if (e.children.size() != 1 || e.children[0].kind != ast::Expr::Kind::Identifier) {
      diags.error(e.span, fmt::format("{}() takes one partition key, as in `{}(KEY)`", fn.name, fn.name));
      return std::nullopt;
    }
    auto k = shifted(e.children[0], out, diags);
    if (!k) return std::nullopt;
    KeyType arg = out[k->key].type;
    if (arg != fn.from1 && arg != fn.from2) {
      diags.error(e.children[0].span,
                  fmt::format("{}() needs a {} key, but `{}` is a {}", fn.name,
                              key_type_name(fn.from1), out[k->key].name, key_type_name(arg)));
      return std::nullopt;
    }
    if (!expect_type(e, fn.to, in_key, diags)) return std::nullopt;
    MapTerm t;
    t.kind = fn.kind;
    t.out_key = static_cast<uint32_t>(k->key);
    t.span = e.span;
    return t;
  }
  diags.error(e.span, fmt::format("unknown mapping function `{}`", e.text),
              "mapping functions are month(KEY), date(KEY), days(KEY) and hours(KEY)");
  return std::nullopt;
}

}  // namespace

std::optional<MapTerm> check_map_term(const ast::Expr& e, const PartitionKeyDef& in_key,
                                      const std::vector<PartitionKeyDef>& out, Diagnostics& diags) {
  using K = ast::Expr::Kind;
  MapTerm t;
  t.span = e.span;
  switch (e.kind) {
    case K::Star:
      t.kind = MapTerm::Kind::All;
      return t;
    case K::String:
    case K::Number:
      if (in_key.type != KeyType::String && !parse_key_value(in_key.type, e.text)) {
        diags.error(e.span, fmt::format("`{}` is not a {} value", e.text, key_type_name(in_key.type)),
                    fmt::format("write it like \"{}\"", key_type_example(in_key.type)));
        return std::nullopt;
      }
      t.kind = MapTerm::Kind::Literal;
      t.literal = e.text;
      return t;
    case K::Call:
      return call_term(e, in_key, out, diags);
    case K::Range: {
      auto lo = shifted(e.children[0], out, diags);
      auto hi = lo ? shifted(e.children[1], out, diags) : std::nullopt;
      if (!lo || !hi) return std::nullopt;
      if (lo->key != hi->key) {
        diags.error(e.span, "both ends of a window must use the same key");
        return std::nullopt;
      }
      if (!is_ordered(out[lo->key].type)) {
        diags.error(e.span, fmt::format("a window needs an ordered key, but `{}` is a string",
                                        out[lo->key].name),
                    "windows work on date, month, hour and int keys");
        return std::nullopt;
      }
      if (lo->offset > hi->offset) {
        diags.error(e.span, "the window is empty: its start is after its end",
                    "write the earlier end first, as in `day - 6 .. day`");
        return std::nullopt;
      }
      if (hi->offset - lo->offset >= kMaxWindow) {  // both within ±kMaxShift: no overflow
        diags.error(e.span,
                    fmt::format("the window reads {} partitions, more than {}", hi->offset - lo->offset + 1,
                                kMaxWindow),
                    "read every partition with `*`, or a coarser input (month(day))");
        return std::nullopt;
      }
      if (!expect_type(e, out[lo->key].type, in_key, diags)) return std::nullopt;
      t.kind = MapTerm::Kind::Range;
      t.out_key = static_cast<uint32_t>(lo->key);
      t.offset = lo->offset;
      t.offset_hi = hi->offset;
      return t;
    }
    case K::Identifier:
    case K::Binary: {
      auto k = shifted(e, out, diags);
      if (!k || !expect_type(e, out[k->key].type, in_key, diags)) return std::nullopt;
      t.kind = MapTerm::Kind::Key;
      t.out_key = static_cast<uint32_t>(k->key);
      t.offset = k->offset;
      return t;
    }
    default:
      diags.error(e.span, "not a mapping term",
                  "terms are a key (`day`), a shift (`day - 1`), a window (`day - 6 .. day`), "
                  "a function (`month(day)`), `*` or a value");
      return std::nullopt;
  }
}

bool infer_mapping(const Dataset& out, const Dataset& in, Span at, std::vector<MapTerm>& terms,
                   Diagnostics& diags) {
  terms.clear();
  for (const auto& ik : in.keys) {
    MapTerm t;
    t.span = at;
    if (out.keys.empty()) {
      t.kind = MapTerm::Kind::All;
      terms.push_back(t);
      continue;
    }
    int k = find_key(out.keys, ik.name);
    if (k >= 0 && out.keys[k].type == ik.type) {
      t.kind = MapTerm::Kind::Key;
      t.out_key = static_cast<uint32_t>(k);
      terms.push_back(t);
      continue;
    }
    std::string suggestion = "*";
    for (const auto& ok : out.keys) {
      if (ik.type == KeyType::Month && (ok.type == KeyType::Date || ok.type == KeyType::Hour))
        suggestion = fmt::format("month({})", ok.name);
      else if (ik.type == KeyType::Date && ok.type == KeyType::Hour)
        suggestion = fmt::format("date({})", ok.name);
      else if (ik.type == KeyType::Date && ok.type == KeyType::Month)
        suggestion = fmt::format("days({})", ok.name);
    }
    diags.error(at,
                fmt::format("cannot tell which partitions of `{}` (key `{}: {}`) each partition of "
                            "`{}` reads",
                            in.name, ik.name, key_type_name(ik.type), out.name),
                fmt::format("declare the mapping, for example: input {}[{}]", in.name, suggestion));
    return false;
  }
  return true;
}

bool term_determines_key(const MapTerm& t) {
  return t.kind != MapTerm::Kind::All && t.kind != MapTerm::Kind::Literal;
}

bool input_determines_keys(const InputDef& in, size_t out_arity) {
  std::vector<bool> seen(out_arity, false);
  for (const auto& t : in.terms)
    if (term_determines_key(t) && t.out_key < out_arity) seen[t.out_key] = true;
  return out_arity > 0 && std::all_of(seen.begin(), seen.end(), [](bool b) { return b; });
}

std::string describe_mapping(const Dataset& out, const Dataset& in, const std::vector<MapTerm>& terms) {
  std::string s = in.name;
  if (terms.empty()) return s;
  s += '[';
  for (size_t i = 0; i < terms.size(); ++i) {
    const MapTerm& t = terms[i];
    std::string key = t.out_key < out.keys.size() ? out.keys[t.out_key].name : "?";
    auto shift = [&](int64_t o) {
      return o == 0 ? key : fmt::format("{} {} {}", key, o < 0 ? '-' : '+', o < 0 ? -o : o);
    };
    if (i) s += ", ";
    switch (t.kind) {
      case MapTerm::Kind::Key: s += shift(t.offset); break;
      case MapTerm::Kind::Range: s += shift(t.offset) + " .. " + shift(t.offset_hi); break;
      case MapTerm::Kind::Month: s += "month(" + key + ")"; break;
      case MapTerm::Kind::Date: s += "date(" + key + ")"; break;
      case MapTerm::Kind::Days: s += "days(" + key + ")"; break;
      case MapTerm::Kind::Hours: s += "hours(" + key + ")"; break;
      case MapTerm::Kind::All: s += "*"; break;
      case MapTerm::Kind::Literal: s += "\"" + t.literal + "\""; break;
    }
  }
  return s + ']';
}

}  // namespace dbuild
