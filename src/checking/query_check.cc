#include "checking/query_check.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "eval/action_specs.h"
#include "graph/file_discovery.h"
#include "model/model_builder.h"

namespace fs = std::filesystem;

namespace dbuild::exec {
namespace {

/// Maps an offset in sql_with_parameters(ds, engine, {}) back to the dataset's text.
uint32_t text_offset(const Dataset& ds, const Engine& engine, int sql_offset) {
  size_t sql = 0, text = 0, n = 0;
  for (const auto& part : ds.parts) {
    size_t sql_len = part.is_template ? engine.placeholder(n++, Value()).size() : part.text.size();
    size_t text_len = part.is_template ? part.text.size() + 4 : part.text.size();
    if (static_cast<size_t>(sql_offset) < sql + sql_len)
      return static_cast<uint32_t>(text + (part.is_template ? 0 : sql_offset - sql));
    sql += sql_len;
    text += text_len;
  }
  return static_cast<uint32_t>(text);
}

Span sql_span(const Dataset& ds, const Engine& engine, int sql_offset) {
  if (sql_offset < 0 || !ds.text_exact) return ds.text_span;
  uint32_t at = ds.text_begin + text_offset(ds, engine, sql_offset);
  return Span{ds.text_span.file, at, at + 1};
}

/// The columns of a CSV/TSV file's header, or nothing.
std::vector<std::string> header_columns(const std::string& path, char delimiter) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return {};
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> out;
  size_t pos = 0;
  for (;;) {
    size_t next = line.find(delimiter, pos);
    std::string cell = line.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') cell = cell.substr(1, cell.size() - 2);
    out.push_back(cell);
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return out;
}

class QueryChecker {
 public:
  QueryChecker(const Model& m, const Engines& engines, Diagnostics& diags)
      : m_(m), engines_(engines), diags_(diags) {}

  void run() {
    for (const auto& ds : m_.datasets) {
      std::optional<std::vector<std::string>> cols;
      types_.clear();
      if (ds.kind == Dataset::Kind::FileSource) cols = file_columns(ds);
      else if (ds.kind == Dataset::Kind::TableSource) cols = table_columns(ds);
      else if (ds.kind == Dataset::Kind::SqlTable) cols = query_columns(ds);
      if (cols) create(ds, *cols);
      if (cols && known_.count(ds.id)) check_custom_checks(ds);
    }
  }

 private:
  std::optional<std::vector<std::string>> file_columns(const Dataset& ds) {
    const FormatDef& f = m_.formats[ds.format];
    std::vector<std::string> cols;
    for (const auto& c : f.columns) cols.push_back(c.name);
    if (auto engine = engines_.of(ds); engine.ok())
      for (const auto& c : load_spec(f).columns) types_.push_back((*engine)->column_type(c.type));
    if (!cols.empty() || (f.kind != FormatDef::Kind::Csv && f.kind != FormatDef::Kind::Tsv)) return cols;
    StringPool pool;
    auto files = discover_files(m_.root, ds, pool, nullptr);
    if (!files.ok() || files->empty()) return std::nullopt;  // unknown until a file exists
    return header_columns(m_.root + "/" + files->front().path, f.delimiter);
  }

  /// A session of `ds`'s engine where nothing is stored; null (after a diagnostic) if there is
  /// none.
  EngineSession* scratch(const Dataset& ds) {
    auto engine = engines_.of(ds);
    if (!engine.ok()) {
      unavailable(ds, engine.status().message());
      return nullptr;
    }
    auto& s = scratch_[*engine];
    if (!s) {
      auto opened = (*engine)->open_scratch();
      if (!opened.ok()) {
        unavailable(ds, opened.status().message());
        return nullptr;
      }
      s = std::move(*opened);
    }
    return s.get();
  }

  /// Says once per connection that its queries could not be prepared.
  void unavailable(const Dataset& ds, const std::string& why) {
    if (!reported_.insert(ds.connection).second) return;
    Span at = ds.connection == kNone ? ds.text_span : m_.connections[ds.connection].span;
    diags_.warning(at, fmt::format("the queries on {} were not prepared: {}", engines_.where(m_, ds), why));
  }

  std::optional<std::vector<std::string>> table_columns(const Dataset& ds) {
    auto engine = engines_.of(ds);
    if (!engine.ok() || !(*engine)->may_have_data()) return std::nullopt;
    auto session = (*engine)->open();
    if (!session.ok()) return std::nullopt;
    auto cols = (*session)->table_columns(ds.source_table);
    if (!cols.ok() || cols->empty()) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& c : *cols) {
      bool key = std::any_of(ds.keys.begin(), ds.keys.end(), [&](auto& k) { return k.name == c; });
      if (!key) out.push_back(c);
    }
    return out;
  }

  std::optional<std::vector<std::string>> query_columns(const Dataset& ds) {
    for (const auto& in : ds.inputs)
      if (!known_.count(in.dataset)) return std::nullopt;  // an upstream shape is unknown
    EngineSession* session = scratch(ds);
    if (!session) return std::nullopt;
    const Engine& engine = **engines_.of(ds);
    std::string sql = sql_with_parameters(ds, engine, {}, nullptr);
    SqlError err;
    auto info = session->prepare(sql, &err);
    if (!info.ok()) {
      std::string message = !err.message.empty() ? err.message : info.status().message();
      if (message.empty()) message = "the engine could not prepare the query";
      diags_.error(sql_span(ds, engine, err.offset), fmt::format("SQL error in `{}`: {}", ds.name, message),
                   "dbuild prepares each query against the columns its inputs produce");
      return std::nullopt;
    }
    confirm_tables(ds, *info);
    types_ = info->column_types;
    for (const auto& c : info->columns)
      for (const auto& k : ds.keys)
        if (c == k.name)
          diags_.error(ds.text_span, fmt::format("the query of `{}` returns a column `{}`, which is its partition key", ds.name, c),
                       "dbuild fills key columns itself: remove it from the SELECT");
    check_columns(ds, info->columns);
    return info->columns;
  }

  /// The columns named by not_null, unique and accepted_values checks are columns the query
  /// returns (or key columns); else a check would test nothing.
  void check_columns(const Dataset& ds, const std::vector<std::string>& result) {
    std::vector<std::string> known = result;
    for (const auto& k : ds.keys) known.push_back(k.name);
    std::set<std::string> lowered;
    for (const auto& c : known) lowered.insert(lower(c));
    for (const auto& check : ds.checks) {
      for (size_t i = 0; i < check.columns.size(); ++i) {
        if (lowered.count(lower(check.columns[i]))) continue;
        Span at = i < check.column_spans.size() ? check.column_spans[i] : check.span;
        std::string guess = did_you_mean(check.columns[i], known);
        std::string list;
        for (const auto& c : known) list += (list.empty() ? "`" : "`, `") + c;
        diags_.error(at, fmt::format("`{}` has no column `{}` to check", ds.name, check.columns[i]),
                     guess.empty() ? fmt::format("its columns are {}`", list)
                                   : fmt::format("did you mean `{}`? its columns are {}`", guess, list));
      }
    }
  }

  /// Custom checks read the partition just built, under the table's name: prepare each one
  /// against the table's shape.
  void check_custom_checks(const Dataset& ds) {
    for (const auto& check : ds.checks) {
      if (check.kind != dbuild::CheckKind::CustomSql) continue;
      EngineSession* session = scratch(ds);
      if (!session) return;
      SqlError err;
      auto info = session->prepare(check.sql, &err);
      if (info.ok()) continue;
      std::string message = !err.message.empty() ? err.message : info.status().message();
      if (message.empty()) message = "the engine could not prepare the query";
      diags_.error(check.span, fmt::format("SQL error in check \"{}\" of `{}`: {}", check.label, ds.name, message),
                   "a check's query reads the partition just built, under the table's name");
    }
  }

  /// The engine's list of tables read must be inputs dbuild knows of.
  void confirm_tables(const Dataset& ds, const PreparedInfo& info) {
    std::set<std::string> inputs;
    for (const auto& in : ds.inputs) inputs.insert(lower(m_.datasets[in.dataset].name));
    for (const auto& t : info.base_tables)
      if (!inputs.count(lower(t)))
        diags_.error(ds.text_span,
                     fmt::format("the query of `{}` reads `{}`, but dbuild did not find it in the query's "
                                 "FROM and JOIN clauses", ds.name, t),
                     fmt::format("declare the dependency: input {}", t));
  }

  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  /// A table shaped like `ds` for the queries that read it: key columns, then `cols`. Where
  /// the engine already stores a table of that name (a server engine), queries read that one.
  void create(const Dataset& ds, const std::vector<std::string>& cols) {
    EngineSession* session = scratch(ds);
    if (!session) return;
    auto stored = session->table_exists(ds.name);
    if (stored.ok() && *stored) {
      known_.insert(ds.id);
      return;
    }
    // Typed where the engine types columns, so a query reading the table is checked against
    // the types a build would give it.
    const Engine& engine = **engines_.of(ds);
    RowSet shape;
    std::set<std::string> seen;
    for (const auto& k : ds.keys)
      if (seen.insert(lower(k.name)).second) {
        shape.columns.push_back(k.name);
        shape.types.push_back(engine.column_type(k.type == KeyType::Int ? ColumnType::Int : ColumnType::String));
      }
    for (size_t i = 0; i < cols.size(); ++i)
      if (seen.insert(lower(cols[i])).second) {
        shape.columns.push_back(cols[i]);
        shape.types.push_back(i < types_.size() ? types_[i] : "");
      }
    if (shape.columns.empty()) {
      shape.columns.push_back("_");
      shape.types.push_back("");
    }
    if (session->create_scratch_table(ds.name, shape).ok()) known_.insert(ds.id);
  }

  const Model& m_;
  const Engines& engines_;
  Diagnostics& diags_;
  std::map<const Engine*, std::unique_ptr<EngineSession>> scratch_;  // one per engine
  std::set<ConnectionId> reported_;
  std::set<DatasetId> known_;
  std::vector<std::string> types_;  // of the columns of the dataset at hand, when known
};

}  // namespace

void check_queries(const Model& model, const Engines& engines, Diagnostics& diags) {
  QueryChecker(model, engines, diags).run();
}

}  // namespace dbuild::exec
