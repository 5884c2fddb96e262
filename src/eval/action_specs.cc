#include "eval/action_specs.h"

#include <fmt/format.h>

#include "model/template_functions.h"

namespace dbuild::exec {
namespace {

Value key_value(KeyType type, int64_t v, const StringPool& pool) {
  if (type == KeyType::Int) return v;
  if (type == KeyType::String) return pool.text(v);
  return format_key_value(type, v);
}

/// A variable's text as the most specific SQL value: integer, real, or text.
Value var_value(const std::string& text) {
  int64_t i;
  if (parse_int64(text, &i)) return i;
  double d;
  if (parse_double(text, &d)) return d;
  return text;
}

/// A typed key value inside template evaluation: ordered keys keep their type for arithmetic.
struct Typed {
  std::optional<KeyType> type;  // set: `number` is a key value of this type
  int64_t number = 0;
  Value value;
};

Value to_value(const Typed& t, const StringPool& pool) {
  return t.type ? key_value(*t.type, t.number, pool) : t.value;
}

Result<Typed> eval(const ast::Expr& e, const Model& m, const Dataset& ds, std::span<const int64_t> tuple,
                   const StringPool& pool);

Result<Typed> eval_call(const ast::Expr& e, const Model& m, const Dataset& ds, std::span<const int64_t> tuple,
                        const StringPool& pool) {
  if (e.children.size() != 1) return Status::Error(fmt::format("{}() takes one argument", e.text));
  auto arg = eval(e.children[0], m, ds, tuple, pool);
  if (!arg.ok()) return arg;
  if (!arg->type || *arg->type == KeyType::Int || *arg->type == KeyType::String)
    return Status::Error(fmt::format("{}() needs a date, month or hour key", e.text));
  KeyType t = *arg->type;
  int64_t day = t == KeyType::Hour ? (arg->number >= 0 ? arg->number / 24 : (arg->number - 23) / 24)
                : t == KeyType::Month ? first_day_of_month(arg->number) : arg->number;
  auto fn = template_function(e.text);
  if (!fn) return Status::Error(fmt::format("unknown template function `{}`", e.text));
  switch (*fn) {
    case TemplateFn::Month: return Typed{KeyType::Month, t == KeyType::Month ? arg->number : month_of_day(day), {}};
    case TemplateFn::Date: return Typed{KeyType::Date, day, {}};
    case TemplateFn::Year: {
      int64_t y;
      unsigned mo, d;
      dbuild::civil_from_days(day, y, mo, d);
      return Typed{std::nullopt, 0, y};
    }
    case TemplateFn::Hour:
      if (t != KeyType::Hour) return Status::Error("hour() needs an hour key");
      return Typed{std::nullopt, 0, arg->number - day * 24};
  }
  return Status::Error(fmt::format("unknown template function `{}`", e.text));
}

Result<Typed> eval(const ast::Expr& e, const Model& m, const Dataset& ds, std::span<const int64_t> tuple,
                   const StringPool& pool) {
  using K = ast::Expr::Kind;
  switch (e.kind) {
    case K::Identifier: {
      for (size_t k = 0; k < ds.keys.size(); ++k)
        if (ds.keys[k].name == e.text) {
          if (ds.keys[k].type == KeyType::String) return Typed{std::nullopt, 0, pool.text(tuple[k])};
          return Typed{ds.keys[k].type, tuple[k], {}};
        }
      auto v = m.vars.find(e.text);
      if (v != m.vars.end() && v->second.value) return Typed{std::nullopt, 0, var_value(*v->second.value)};
      return Status::Error(fmt::format("unknown name `{}`", e.text));
    }
    case K::Number: return Typed{std::nullopt, 0, var_value(e.text)};
    case K::String: return Typed{std::nullopt, 0, e.text};
    case K::Call: return eval_call(e, m, ds, tuple, pool);
    case K::Unary:
    case K::Binary: {
      auto l = eval(e.children[0], m, ds, tuple, pool);
      if (!l.ok()) return l;
      Typed zero{std::nullopt, 0, int64_t{0}};
      Result<Typed> r = e.kind == K::Binary ? eval(e.children[1], m, ds, tuple, pool) : Result<Typed>(*l);
      if (!r.ok()) return r;
      if (e.kind == K::Unary) l = zero;
      int sign = e.text == "-" ? -1 : 1;
      const int64_t* rn = std::get_if<int64_t>(&r->value);
      const int64_t* ln = l->type ? &l->number : std::get_if<int64_t>(&l->value);
      if (r->type || !rn || !ln) return Status::Error("templates add or subtract whole numbers, as in `day - 1`");
      int64_t sum = 0;
      bool overflow = sign > 0 ? __builtin_add_overflow(*ln, *rn, &sum) : __builtin_sub_overflow(*ln, *rn, &sum);
      if (overflow) return Status::Error("the result does not fit in 64 bits");
      if (l->type) return Typed{l->type, sum, {}};
      return Typed{std::nullopt, 0, sum};
    }
    default: return Status::Error("unsupported template expression");
  }
}

CompareOp compare_op(const std::string& op) {
  if (op == "==") return CompareOp::Eq;
  if (op == "!=") return CompareOp::Ne;
  if (op == "<") return CompareOp::Lt;
  if (op == "<=") return CompareOp::Le;
  if (op == ">") return CompareOp::Gt;
  return CompareOp::Ge;
}

ColumnType column_type(ColumnKind k) {
  switch (k) {
    case ColumnKind::String: return ColumnType::String;
    case ColumnKind::Int: return ColumnType::Int;
    case ColumnKind::Float: return ColumnType::Float;
    case ColumnKind::Bool: return ColumnType::Bool;
    case ColumnKind::Date: return ColumnType::Date;
    case ColumnKind::Timestamp: return ColumnType::Timestamp;
  }
  return ColumnType::String;
}

}  // namespace

std::vector<KeyColumn> key_columns(const Dataset& ds, std::span<const int64_t> tuple, const StringPool& pool) {
  std::vector<KeyColumn> out;
  for (size_t k = 0; k < ds.keys.size(); ++k) out.push_back({ds.keys[k].name, key_value(ds.keys[k].type, tuple[k], pool)});
  return out;
}

LoadSpec load_spec(const FormatDef& f) {
  LoadSpec s;
  static const FormatKind kKinds[] = {FormatKind::Csv, FormatKind::Tsv, FormatKind::JsonLines,
                                      FormatKind::Lines, FormatKind::Regex};
  s.kind = kKinds[static_cast<int>(f.kind)];
  for (const auto& c : f.columns) s.columns.push_back({c.name, column_type(c.kind), c.parse_format});
  if (f.kind == FormatDef::Kind::Lines) s.columns.clear();
  s.delimiter = f.delimiter;
  s.header = f.header;
  s.pattern = f.pattern;
  s.null_token = f.null_token;
  s.skip_malformed = f.skip_malformed;
  return s;
}

Result<Value> template_value(const ast::Expr& e, const Model& model, const Dataset& ds,
                             std::span<const int64_t> tuple, const StringPool& pool) {
  auto t = eval(e, model, ds, tuple, pool);
  if (!t.ok()) return t.status();
  return to_value(*t, pool);
}

std::string sql_with_parameters(const Dataset& ds, const Engine& engine, const std::vector<Value>& values,
                                size_t* params) {
  std::string sql;
  size_t n = 0;
  for (const auto& part : ds.parts) {
    if (part.is_template) {
      sql += engine.placeholder(n, n < values.size() ? values[n] : Value());
      ++n;
    } else {
      sql += part.text;
    }
  }
  if (params) *params = n;
  return sql;
}

Result<std::vector<Value>> template_values(const Model& m, const Dataset& ds, std::span<const int64_t> tuple,
                                           const StringPool& pool) {
  std::vector<Value> out;
  for (const auto& part : ds.parts) {
    if (!part.is_template) continue;
    auto v = template_value(part.expr, m, ds, tuple, pool);
    if (!v.ok()) return Status::Error(fmt::format("{{{{{}}}}}: {}", part.text, v.status().message()));
    out.push_back(std::move(*v));
  }
  return out;
}

std::vector<CheckSpec> check_specs(const Dataset& ds) {
  std::vector<CheckSpec> out;
  for (const auto& c : ds.checks) {
    CheckSpec s;
    s.name = c.label;
    s.columns = c.columns;
    for (const auto& v : c.values) s.values.push_back(v);
    switch (c.kind) {
      case dbuild::CheckKind::NotNull: s.kind = CheckKind::NotNull; break;
      case dbuild::CheckKind::Unique: s.kind = CheckKind::Unique; break;
      case dbuild::CheckKind::AcceptedValues: s.kind = CheckKind::AcceptedValues; break;
      case dbuild::CheckKind::RowCount: s.kind = CheckKind::RowCount; break;
      case dbuild::CheckKind::CustomSql: s.kind = CheckKind::CustomSql; break;
    }
    s.op = compare_op(c.op);
    s.n = c.count;
    s.sql = c.sql;
    out.push_back(std::move(s));
  }
  return out;
}

Result<QuerySpec> query_spec(const ActionGraph& g, ActionId a, const Engine& engine) {
  const Model& m = *g.model;
  const Dataset& ds = m.datasets[g.dataset_of(a)];
  auto tuple = g.tuple_of(a);
  QuerySpec q;
  q.table = ds.name;
  q.keys = key_columns(ds, tuple, g.pool);
  auto values = template_values(m, ds, tuple, g.pool);
  if (!values.ok()) return values.status();
  q.params = std::move(*values);
  q.sql = sql_with_parameters(ds, engine, q.params, nullptr);
  auto inputs = g.inputs_of(a);
  for (const auto& in : ds.inputs) {
    const Dataset& input = m.datasets[in.dataset];
    InputView view;
    view.table = input.name;
    if (input.kind == Dataset::Kind::TableSource) view.source_table = input.source_table;
    for (const auto& k : input.keys) view.key_columns.push_back(k.name);
    for (ActionId i : inputs) {
      if (g.dataset_of(i) != in.dataset) continue;
      std::vector<Value> tuple_values;
      for (auto& kc : key_columns(input, g.tuple_of(i), g.pool)) tuple_values.push_back(std::move(kc.value));
      view.partitions.push_back(std::move(tuple_values));
    }
    // Partitions are always listed: rows of partitions the graph does not have (left by an
    // interrupted run, or written outside dbuild) are never read.
    view.all = input.keys.empty();
    if (view.all) view.partitions.clear();
    q.inputs.push_back(std::move(view));
  }
  q.checks = check_specs(ds);
  return q;
}

}  // namespace dbuild::exec
