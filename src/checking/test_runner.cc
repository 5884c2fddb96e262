#include "checking/test_runner.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "eval/action_specs.h"
#include "graph/mapping_eval.h"

namespace dbuild::exec {
namespace {

Value cell_value(const std::string& cell) {
  if (cell == "NULL") return Value();
  int64_t i;
  if (parse_int64(cell, &i)) return i;
  double d;
  if (parse_double(cell, &d)) return d;
  return cell;
}

/// A cell's canonical text for comparison: numbers by value.
std::string canonical(const Value& v) {
  if (is_null(v)) return "NULL";
  if (const auto* i = std::get_if<int64_t>(&v)) return fmt::format("{}", static_cast<double>(*i));
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return std::get<std::string>(v);
}

/// A fixture as the engine takes it: cells typed like a CSV sniffer would.
RowSet fixture(const RowTable& rows) {
  RowSet out;
  out.columns = rows.columns;
  for (const auto& row : rows.rows) {
    auto& r = out.rows.emplace_back();
    for (const auto& cell : row) r.push_back(cell_value(cell));
  }
  return out;
}

/// The partition the test's query runs for.
Result<std::vector<int64_t>> test_partition(const Dataset& ds, const TestDef& t, StringPool& pool) {
  std::string text = t.partition;
  if (text.empty() && !ds.keys.empty()) {
    std::vector<std::string> found;
    for (const auto& [id, rows] : t.given)
      for (size_t c = 0; c < rows.columns.size(); ++c)
        if (rows.columns[c] == ds.keys[0].name)
          for (const auto& r : rows.rows) found.push_back(r[c]);
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    if (found.size() != 1)
      return Status::Error(fmt::format("say which partition the query runs for: partition = \"{}\"",
                                       key_type_example(ds.keys[0].type)));
    text = found[0];
  }
  auto tuple = parse_partition_text(ds.keys, text, pool);
  if (!tuple) return Status::Error(fmt::format("`{}` is not a partition of `{}`", text, ds.name));
  return *tuple;
}

/// Which rows of a fixture for input `in` a build of partition `tuple` reads: those in the
/// input partitions the mapping selects. A key column the fixture lacks does not filter.
Result<RowTable> visible_rows(const Model& m, const Dataset& ds, const InputDef& in, const RowTable& rows,
                              std::span<const int64_t> tuple, StringPool& pool) {
  const Dataset& input = m.datasets[in.dataset];
  RowTable out = rows;
  out.rows.clear();
  struct Filter {
    size_t column;
    KeyType type;
    ValueRange range;
  };
  std::vector<Filter> filters;
  for (size_t k = 0; k < input.keys.size() && k < in.terms.size(); ++k) {
    auto col = std::find(rows.columns.begin(), rows.columns.end(), input.keys[k].name);
    if (col == rows.columns.end()) continue;
    int64_t literal = 0;
    if (in.terms[k].kind == MapTerm::Kind::Literal) {
      auto v = literal_value(in.terms[k], input.keys[k], pool);
      if (!v) return Status::Error(fmt::format("`{}` is not a value of key `{}`", in.terms[k].literal, input.keys[k].name));
      literal = *v;
    }
    ValueRange range = forward_term(in.terms[k], ds.keys, tuple, literal);
    if (!range.all) filters.push_back({static_cast<size_t>(col - rows.columns.begin()), input.keys[k].type, range});
  }
  for (const auto& row : rows.rows) {
    bool visible = true;
    for (const Filter& f : filters) {
      const std::string& cell = row[f.column];
      auto v = f.type == KeyType::String ? std::optional<int64_t>(pool.intern(cell)) : parse_key_value(f.type, cell);
      if (!v)
        return Status::Error(fmt::format("`{}` in the rows of `{}` is not a {} value, as in \"{}\"", cell,
                                         input.name, key_type_name(f.type), key_type_example(f.type)));
      visible = visible && f.range.lo <= *v && *v <= f.range.hi;
    }
    if (visible) out.rows.push_back(row);
  }
  return out;
}

Result<std::vector<std::map<std::string, Value>>> run_query(const Model& m, const Dataset& ds,
                                                          const TestDef& t, const Engine& engine,
                                                          EngineSession& session) {
  for (const auto& in : ds.inputs)
    if (std::none_of(t.given.begin(), t.given.end(), [&](auto& g) { return g.first == in.dataset; }))
      return Status::Error(fmt::format("give rows for `{}`, which the query reads (they may be none: just a header)",
                                       m.datasets[in.dataset].name));
  StringPool pool;
  auto tuple = test_partition(ds, t, pool);
  if (!tuple.ok()) return tuple.status();
  // The query sees what a build of that partition sees: the partitions its mapping selects.
  for (const auto& [given_id, rows] : t.given) {
    DatasetId id = given_id;  // a lambda may not capture a structured binding (clang 14)
    auto in = std::find_if(ds.inputs.begin(), ds.inputs.end(), [&](const InputDef& i) { return i.dataset == id; });
    Result<RowTable> visible = in == ds.inputs.end() ? Result<RowTable>(rows)
                                                     : visible_rows(m, ds, *in, rows, *tuple, pool);
    if (!visible.ok()) return visible.status();
    Status s = session.create_scratch_table(m.datasets[id].name, fixture(*visible));
    if (!s.ok()) return s;
  }
  auto values = template_values(m, ds, *tuple, pool);
  if (!values.ok()) return values.status();
  auto rows = session.run_select(sql_with_parameters(ds, engine, *values, nullptr), *values);
  if (!rows.ok()) return rows.status();
  std::vector<std::map<std::string, Value>> out;
  for (auto& row : rows->rows) {
    std::map<std::string, Value> r;
    for (size_t c = 0; c < row.size() && c < rows->columns.size(); ++c) r[rows->columns[c]] = std::move(row[c]);
    out.push_back(std::move(r));
  }
  return out;
}

std::string compare(const RowTable& expect, const std::vector<std::map<std::string, Value>>& got) {
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (const auto& c : cells) s += (s.empty() ? "" : " | ") + c;
    return s;
  };
  std::vector<std::string> want, have;
  for (const auto& r : expect.rows) {
    std::vector<std::string> cells;
    for (const auto& c : r) cells.push_back(canonical(cell_value(c)));
    want.push_back(line(cells));
  }
  for (const auto& r : got) {
    std::vector<std::string> cells;
    for (const auto& c : expect.columns) {
      auto it = r.find(c);
      if (it == r.end()) return fmt::format("the query returns no column `{}`", c);
      cells.push_back(canonical(it->second));
    }
    have.push_back(line(cells));
  }
  std::sort(want.begin(), want.end());
  std::sort(have.begin(), have.end());
  std::vector<std::string> missing, extra;
  std::set_difference(want.begin(), want.end(), have.begin(), have.end(), std::back_inserter(missing));
  std::set_difference(have.begin(), have.end(), want.begin(), want.end(), std::back_inserter(extra));
  if (missing.empty() && extra.empty()) return {};
  std::string out = fmt::format("    columns: {}\n", line(expect.columns));
  for (const auto& r : missing) out += "    expected, not returned: " + r + "\n";
  for (const auto& r : extra) out += "    returned, not expected: " + r + "\n";
  return out;
}

}  // namespace

std::vector<TestOutcome> run_tests(const Model& model, const Dataset& ds, const Engines& engines) {
  std::vector<TestOutcome> out;
  for (const auto& t : ds.tests) {
    TestOutcome o{ds.name, t.name, false, {}};
    auto engine = engines.of(ds);
    auto session = engine.ok() ? (*engine)->open_scratch() : Result<std::unique_ptr<EngineSession>>(engine.status());
    if (!session.ok()) {
      o.detail = "    " + session.status().message() + "\n";
      out.push_back(std::move(o));
      continue;
    }
    auto rows = run_query(model, ds, t, **engine, **session);
    if (!rows.ok()) o.detail = "    " + rows.status().message() + "\n";
    else o.detail = compare(t.expect, *rows);
    o.passed = o.detail.empty();
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace dbuild::exec
