#include "model/model_builder.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <re2/re2.h>

#include "model/mapping.h"
#include "model/path_template.h"
#include "model/row_table.h"
#include "model/sql_lexer.h"
#include "model/template_functions.h"
#include "model/template_text.h"

namespace fs = std::filesystem;

namespace dbuild {

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates) {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t prev = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t cur = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] != b[j - 1])});
        prev = cur;
      }
    }
    return row[b.size()];
  };
  std::string best;
  size_t best_d = std::max<size_t>(2, name.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = distance(name, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

namespace {

using Kind = ast::Declaration::Kind;

/// Reads a block's attributes, remembering which were used so the rest can be reported.
class Attrs {
 public:
  Attrs(const std::vector<ast::Attribute>& attrs, Diagnostics& diags) : attrs_(attrs), diags_(diags) {}

  const ast::Attribute* get(std::string_view name) {
    used_.insert(std::string(name));
    const ast::Attribute* found = nullptr;
    for (const auto& a : attrs_) {
      if (a.name != name) continue;
      if (found) diags_.error(a.name_span, fmt::format("`{}` is set twice", name));
      else found = &a;
    }
    return found;
  }
  /// A string, identifier, number or boolean as text; reports other expressions.
  std::optional<std::string> text(std::string_view name) {
    const ast::Attribute* a = get(name);
    if (!a) return std::nullopt;
    return literal(a->value);
  }
  std::optional<std::string> literal(const ast::Expr& e) {
    using K = ast::Expr::Kind;
    if (e.kind == K::String || e.kind == K::Identifier || e.kind == K::Number || e.kind == K::Bool)
      return e.text;
    diags_.error(e.span, "expected a value: a string, a name, a number or true/false");
    return std::nullopt;
  }
  void report_unknown(const char* what, const std::vector<std::string>& allowed) {
    for (const auto& a : attrs_) {
      if (used_.count(a.name)) continue;
      std::string list;
      for (const auto& s : allowed) list += (list.empty() ? "" : ", ") + s;
      std::string guess = did_you_mean(a.name, allowed);
      diags_.error(a.name_span, fmt::format("unknown attribute `{}` in {}", a.name, what),
                   guess.empty() ? fmt::format("{} takes: {}", what, list)
                                 : fmt::format("did you mean `{}`? {} takes: {}", guess, what, list));
    }
  }

 private:
  const std::vector<ast::Attribute>& attrs_;
  Diagnostics& diags_;
  std::set<std::string> used_;
};

/// A count or a size such as 64MB, in bytes; nothing when malformed or beyond int64.
std::optional<uint64_t> parse_size(std::string_view t) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec != std::errc() || end == t.data() || n < 0) return std::nullopt;
  std::string_view unit(end, static_cast<size_t>(t.data() + t.size() - end));
  static const std::pair<std::string_view, int> kUnits[] = {{"", 0}, {"B", 0}, {"KB", 10}, {"MB", 20},
                                                            {"GB", 30}, {"TB", 40}};
  for (const auto& [name, shift] : kUnits) {
    if (unit != name) continue;
    if (n > (INT64_MAX >> shift)) return std::nullopt;
    return static_cast<uint64_t>(n) << shift;
  }
  return std::nullopt;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// A declaration and where it came from.
struct DeclRef {
  const ast::Declaration* decl;
  const ast::File* file;
};

class ModelBuilder {
 public:
  ModelBuilder(Workspace& ws, const ModelOptions& options, Diagnostics& diags)
      : ws_(ws), options_(options), diags_(diags) {}

  Model build() {
    model_.root = ws_.root;
    collect();
    build_vars();
    for (auto& d : formats_) build_format(d);
    for (auto& d : connections_) build_connection(d);
    for (auto& d : workspace_blocks_) build_workspace(d);
    for (auto& d : datasets_) declare_dataset(d);
    for (size_t i = 0; i < datasets_.size(); ++i) build_dataset(datasets_[i], model_.datasets[i]);
    check_queries_read_loaded_data();
    order_datasets();
    return std::move(model_);
  }

 private:
  // ---- names ----
  void collect() {
    std::map<std::string, Span> names;
    for (const auto& file : ws_.asts) {
      for (const auto& decl : file.declarations) {
        if (decl.kind == Kind::Import) continue;
        if (decl.kind == Kind::Workspace) {
          workspace_blocks_.push_back({&decl, &file});
          continue;
        }
        auto [it, fresh] = names.emplace(decl.name, decl.name_span);
        if (!fresh) {
          TextPosition first = ws_.files.position(it->second.file, it->second.begin);
          diags_.error(decl.name_span, fmt::format("`{}` is defined twice", decl.name),
                       fmt::format("the first definition is at {}:{}:{}; names of sources, tables, "
                                   "formats, connections and variables share one namespace",
                                   ws_.files.path(it->second.file), first.line, first.column));
          continue;
        }
        DeclRef ref{&decl, &file};
        if (decl.kind == Kind::Var) vars_.push_back(ref);
        else if (decl.kind == Kind::Format) formats_.push_back(ref);
        else if (decl.kind == Kind::Connection) connections_.push_back(ref);
        else datasets_.push_back(ref);
      }
    }
  }

  void build_vars() {
    for (const auto& [decl, file] : vars_) {
      VarDef v{decl->name, std::nullopt, decl->name_span};
      if (decl->value) {
        Attrs none({}, diags_);
        v.value = none.literal(*decl->value);
      }
      if (auto it = options_.vars.find(decl->name); it != options_.vars.end()) v.value = it->second;
      if (!v.value)
        diags_.error(decl->name_span, fmt::format("variable `{}` has no value", decl->name),
                     fmt::format("pass --var {}=VALUE, or give it a default: var {} = ...",
                                 decl->name, decl->name));
      model_.vars.emplace(decl->name, std::move(v));
    }
    for (const auto& [name, value] : options_.vars) {
      if (!model_.vars.count(name)) {
        std::vector<std::string> known;
        for (const auto& [n, v] : model_.vars) known.push_back(n);
        std::string guess = did_you_mean(name, known);
        diags_.error(Span{}, fmt::format("--var {}: no variable `{}` is declared", name, name),
                     guess.empty() ? fmt::format("declare it in a rule file: var {} = ...", name)
                                   : fmt::format("did you mean `{}`?", guess));
      }
    }
  }

  void build_workspace(const DeclRef& ref) {
    bool in_root_file = ws_.files.path(ref.file->file).ends_with(kWorkspaceFile) &&
                        !ws_.imported[static_cast<size_t>(ref.file - ws_.asts.data())];
    if (!in_root_file || workspace_seen_) {
      diags_.error(ref.decl->span, "a `workspace` block belongs in the root workspace.dbuild, once");
      return;
    }
    workspace_seen_ = true;
    Attrs a(ref.decl->body.attributes, diags_);
    if (auto w = a.text("warehouse")) model_.warehouse = *w;
    if (const auto* dc = a.get("default_connection")) {
      default_connection_span_ = dc->value.span;
      default_connection_ = dc->value.text;
    }
    if (const auto* ex = a.get("executor")) executor_kind(ex->value, model_.executor);
    if (const auto* sb = nested(ref.decl->body, "slurm")) slurm_settings(*sb, model_.executor, true);
    a.report_unknown("a workspace block", {"warehouse", "default_connection", "executor"});
    report_unknown_nested(ref.decl->body, "a workspace block", {"slurm"});
  }

  // ---- executors ----
  void executor_kind(const ast::Expr& v, ExecutorDef& ex) {
    if (v.kind != ast::Expr::Kind::Identifier || (v.text != "local" && v.text != "slurm")) {
      diags_.error(v.span, fmt::format("unknown executor `{}`", v.text),
                   "executors are `local` (this machine) and `slurm` (jobs on a SLURM cluster)");
      return;
    }
    ex.kind = v.text;
    ex.span = v.span;
  }

  /// `1h`, `90m`, `30s`, `2d`, a number of minutes, or SLURM's own forms (`1:30:00`,
  /// `2-12`, `2-00:00:00`) as SLURM's --time takes them.
  static std::optional<std::string> slurm_time(const std::string& t) {
    static const RE2 ours(R"((\d+)([smhd]))"), theirs(R"(\d+(-\d+)?(:\d+){0,2})");
    uint64_t n = 0;
    std::string unit;
    if (RE2::FullMatch(t, ours, &n, &unit)) {
      if (n == 0 || n > 1000000) return std::nullopt;
      if (unit == "s") return fmt::format("{}:{:02}", n / 60, n % 60);
      if (unit == "m") return std::to_string(n);
      if (unit == "h") return std::to_string(n * 60);
      return fmt::format("{}-00:00:00", n);
    }
    if (RE2::FullMatch(t, theirs)) return t;
    return std::nullopt;
  }

  /// `4G`, `4GB`, `512M`, `512MB`, or a number of megabytes, as SLURM's --mem takes them.
  static std::optional<std::string> slurm_mem(const std::string& m) {
    static const RE2 re(R"((\d+)([KMGT])?B?)");
    uint64_t n = 0;
    std::string unit;
    if (!RE2::FullMatch(m, re, &n, &unit) || n == 0) return std::nullopt;
    return std::to_string(n) + (unit.empty() ? "M" : unit);
  }

  void slurm_settings(const ast::NestedBlock& b, ExecutorDef& ex, bool workspace) {
    Attrs a(b.attributes, diags_);
    // SLURM's partition; `partition` itself is a keyword of the rules (partition clauses).
    if (auto p = a.get("queue")) {
      if (auto v = a.literal(p->value)) ex.partition = *v;
    }
    if (auto t = a.get("time")) {
      auto v = slurm_time(t->value.text);
      if (!v) diags_.error(t->value.span, fmt::format("`{}` is not a time limit", t->value.text),
                           "write 30m, 4h or 2d, or SLURM's own form such as 1-12:00:00");
      else ex.time = *v;
    }
    if (auto c = a.get("cpus")) {
      auto n = parse_size(c->value.text);
      if (c->value.kind != ast::Expr::Kind::Number || !n || *n == 0 || *n > 100000)
        diags_.error(c->value.span, "cpus is a whole number of CPUs, at least 1");
      else ex.cpus = static_cast<int>(*n);
    }
    if (auto m = a.get("mem")) {
      auto v = slurm_mem(m->value.text);
      if (!v) diags_.error(m->value.span, fmt::format("`{}` is not an amount of memory", m->value.text),
                           "write 512M or 4G (a bare number means megabytes)");
      else ex.mem = *v;
    }
    std::vector<std::string> allowed = {"queue", "time", "cpus", "mem"};
    if (workspace) {
      allowed.push_back("max_jobs");
      if (auto j = a.get("max_jobs")) {
        auto n = parse_size(j->value.text);
        if (j->value.kind != ast::Expr::Kind::Number || !n || *n == 0 || *n > 100000)
          diags_.error(j->value.span, "max_jobs is a whole number of jobs, at least 1");
        else ex.max_jobs = static_cast<int>(*n);
      }
    }
    a.report_unknown(workspace ? "the workspace's slurm block" : "a table's slurm block (max_jobs belongs to the workspace's)", allowed);
  }

  // ---- formats ----
  static std::optional<FormatDef::Kind> format_kind(std::string_view k) {
    if (k == "csv") return FormatDef::Kind::Csv;
    if (k == "tsv") return FormatDef::Kind::Tsv;
    if (k == "jsonl") return FormatDef::Kind::JsonLines;
    if (k == "lines") return FormatDef::Kind::Lines;
    if (k == "regex") return FormatDef::Kind::Regex;
    return std::nullopt;
  }

  std::vector<ColumnDef> columns(const ast::NestedBlock& nb) {
    std::vector<ColumnDef> out;
    std::set<std::string> seen;
    for (const auto& a : nb.attributes)
      diags_.error(a.name_span, "a columns block lists `name: type`, not attributes",
                   fmt::format("write `{}: string`", a.name));
    for (const auto& f : nb.fields) {
      static const std::pair<const char*, ColumnKind> kKinds[] = {
          {"string", ColumnKind::String}, {"int", ColumnKind::Int}, {"float", ColumnKind::Float},
          {"bool", ColumnKind::Bool}, {"date", ColumnKind::Date}, {"timestamp", ColumnKind::Timestamp}};
      ColumnDef c{f.name, ColumnKind::String, f.format ? f.format->value : "", f.name_span};
      bool known = false;
      for (const auto& [name, kind] : kKinds)
        if (f.type == name) c.kind = kind, known = true;
      if (!known)
        diags_.error(f.type_span, fmt::format("unknown column type `{}`", f.type),
                     "column types are string, int, float, bool, date, timestamp");
      if (f.format && c.kind != ColumnKind::Date && c.kind != ColumnKind::Timestamp)
        diags_.error(f.format->span, "only date and timestamp columns take a parse format");
      if (!seen.insert(f.name).second)
        diags_.error(f.name_span, fmt::format("column `{}` is listed twice", f.name));
      out.push_back(std::move(c));
    }
    return out;
  }

  const ast::NestedBlock* nested(const ast::Block& b, std::string_view name) {
    const ast::NestedBlock* found = nullptr;
    for (const auto& nb : b.nested) {
      if (nb.name != name) continue;
      if (found) diags_.error(nb.name_span, fmt::format("`{}` is given twice", name));
      else found = &nb;
    }
    return found;
  }

  void report_unknown_nested(const ast::Block& b, const char* what, std::set<std::string> allowed) {
    for (const auto& nb : b.nested)
      if (!allowed.count(nb.name))
        diags_.error(nb.name_span, fmt::format("unknown block `{}` in {}", nb.name, what));
    for (const auto& f : b.fields)
      diags_.error(f.name_span, fmt::format("`{}: {}` belongs in a columns block", f.name, f.type),
                   "wrap column declarations in `columns { ... }`");
  }

  void reject_clauses(const ast::Block& b, const char* what, bool allow_partition) {
    auto no = [&](bool present, Span s, const char* clause) {
      if (present) diags_.error(s, fmt::format("{} takes no `{}` clause", what, clause));
    };
    if (!allow_partition)
      no(!b.partition_clauses.empty(), b.partition_clauses.empty() ? Span{} : b.partition_clauses[0], "partition");
    no(!b.inputs.empty(), b.inputs.empty() ? Span{} : b.inputs[0].span, "input");
    no(!b.sql.empty(), b.sql.empty() ? Span{} : b.sql[0].span, "sql");
    no(!b.command.empty(), b.command.empty() ? Span{} : b.command[0].span, "command");
    no(!b.output.empty(), b.output.empty() ? Span{} : b.output[0].span, "output");
    no(!b.checks.empty(), b.checks.empty() ? Span{} : b.checks[0].span, "check");
    no(!b.tests.empty(), b.tests.empty() ? Span{} : b.tests[0].span, "test");
  }

  void build_format(const DeclRef& ref) {
    const ast::Declaration& d = *ref.decl;
    FormatDef f;
    f.name = d.name;
    f.span = d.name_span;
    reject_clauses(d.body, "a format", false);
    Attrs a(d.body.attributes, diags_);
    const ast::Attribute* kind = a.get("kind");
    if (!kind) {
      diags_.error(d.name_span, fmt::format("format `{}` has no kind", d.name),
                   "add `kind = \"regex\"` (or csv, tsv, jsonl, lines)");
    } else if (auto k = format_kind(kind->value.text)) {
      f.kind = *k;
    } else {
      diags_.error(kind->value.span, fmt::format("unknown format kind `{}`", kind->value.text),
                   "kinds are csv, tsv, jsonl, lines, regex");
    }
    if (const auto* cb = nested(d.body, "columns")) f.columns = columns(*cb);
    read_format_options(a, f, d);
    a.report_unknown("a format block", {"kind", "pattern", "null", "malformed", "delimiter", "header"});
    report_unknown_nested(d.body, "a format block", {"columns"});
    model_.formats.push_back(std::move(f));
  }

  void read_format_options(Attrs& a, FormatDef& f, const ast::Declaration& d) {
    if (auto n = a.text("null")) f.null_token = *n;
    if (const auto* m = a.get("malformed")) {
      if (m->value.text == "skip") f.skip_malformed = true;
      else if (m->value.text != "error")
        diags_.error(m->value.span, "malformed takes \"skip\" or \"error\"");
    }
    if (const auto* dl = a.get("delimiter")) {
      if (dl->value.text.size() != 1) diags_.error(dl->value.span, "a delimiter is one character");
      else f.delimiter = dl->value.text[0];
    } else if (f.kind == FormatDef::Kind::Tsv) {
      f.delimiter = '\t';
    }
    if (auto h = a.text("header")) f.header = *h == "true";
    const ast::Attribute* p = a.get("pattern");
    if (f.kind != FormatDef::Kind::Regex) {
      if (p) diags_.error(p->name_span, "only regex formats take a pattern");
      return;
    }
    if (!p) {
      diags_.error(d.name_span, "a regex format needs a pattern", "add `pattern = '^(\\S+) ...$'`");
      return;
    }
    f.pattern = p->value.text;
    RE2 re(f.pattern, RE2::Quiet);
    if (!re.ok()) {
      diags_.error(p->value.span, fmt::format("invalid regular expression: {}", re.error()));
    } else if (static_cast<size_t>(re.NumberOfCapturingGroups()) != f.columns.size()) {
      diags_.error(p->value.span,
                   fmt::format("the pattern has {} capture groups but the format lists {} columns",
                               re.NumberOfCapturingGroups(), f.columns.size()),
                   "give one capture group per column, in order; use (?:...) for other groups");
    }
  }

  // ---- connections ----
  void build_connection(const DeclRef& ref) {
    const ast::Declaration& d = *ref.decl;
    ConnectionDef c;
    c.name = d.name;
    c.span = d.name_span;
    reject_clauses(d.body, "a connection", false);
    report_unknown_nested(d.body, "a connection", {});
    for (const auto& a : d.body.attributes) {
      const ast::Expr& v = a.value;
      if (v.kind == ast::Expr::Kind::Call && v.text == "env" && v.children.size() == 1 &&
          v.children[0].kind == ast::Expr::Kind::String) {
        c.env[a.name] = v.children[0].text;
        continue;
      }
      bool secret = a.name == "password" || a.name == "secret" || a.name == "token";
      if (secret) {
        diags_.error(v.span, fmt::format("`{}` must come from the environment", a.name),
                     fmt::format("write {} = env(\"VARIABLE\"); secrets never live in rule files", a.name));
        continue;
      }
      if (v.kind != ast::Expr::Kind::String && v.kind != ast::Expr::Kind::Number &&
          v.kind != ast::Expr::Kind::Identifier && v.kind != ast::Expr::Kind::Bool) {
        diags_.error(v.span, "a connection setting is a value or env(\"VARIABLE\")");
        continue;
      }
      c.settings[a.name] = v.text;
    }
    auto engine = c.settings.find("engine");
    if (engine == c.settings.end())
      diags_.error(d.name_span, fmt::format("connection `{}` has no engine", d.name),
                   "add engine = \"sqlite\" or engine = \"postgres\"");
    else if (engine->second != "sqlite" && engine->second != "postgres" && engine->second != "clickhouse")
      diags_.error(d.name_span, fmt::format("unknown engine `{}`", engine->second),
                   "engines are sqlite, postgres, clickhouse");
    else
      c.engine = engine->second;
    model_.connections.push_back(std::move(c));
  }

  // ---- datasets, first pass: names, kinds, keys ----
  void declare_dataset(const DeclRef& ref) {
    const ast::Declaration& d = *ref.decl;
    Dataset ds;
    ds.id = static_cast<DatasetId>(model_.datasets.size());
    ds.name = d.name;
    ds.span = d.name_span;
    std::set<std::string> seen;
    for (const auto& k : d.body.partition) {
      auto type = parse_key_type(k.type);
      if (!type) {
        diags_.error(k.type_span, fmt::format("unknown key type `{}`", k.type),
                     "key types are date, month, hour, int, string");
        bad_keys_.insert(static_cast<DatasetId>(model_.datasets.size()));
      }
      if (!seen.insert(k.name).second)
        diags_.error(k.name_span, fmt::format("partition key `{}` is declared twice", k.name));
      ds.keys.push_back({k.name, type.value_or(KeyType::String), k.name_span});
    }
    model_.by_name.emplace(ds.name, ds.id);
    by_lower_name_.emplace(lower(ds.name), ds.id);
    model_.datasets.push_back(std::move(ds));
  }

  // ---- datasets, second pass ----
  void build_dataset(const DeclRef& ref, Dataset& ds) {
    const ast::Declaration& d = *ref.decl;
    if (d.kind == Kind::Source) build_source(d, ds);
    else build_table(d, ds, *ref.file);
  }

  std::optional<FormatId> resolve_format(const ast::Expr& e, const ast::Block& body, const std::string& path) {
    std::string name = e.text;
    if (auto k = format_kind(name); k && *k != FormatDef::Kind::Regex) {
      FormatDef f;
      f.name = name;
      f.kind = *k;
      f.delimiter = *k == FormatDef::Kind::Tsv ? '\t' : ',';
      if (*k == FormatDef::Kind::Lines) f.columns.push_back({"line", ColumnKind::String, "", e.span});
      if (const auto* cb = nested(body, "columns")) {
        if (*k == FormatDef::Kind::Lines) diags_.error(cb->name_span, "the lines format has one column, `line`");
        else f.columns = columns(*cb);
      }
      if (*k == FormatDef::Kind::JsonLines && f.columns.empty())
        diags_.error(e.span, "a jsonl source needs a columns block",
                     "list the fields to load: columns { id: int  name: string }");
      f.span = e.span;
      model_.formats.push_back(std::move(f));
      return static_cast<FormatId>(model_.formats.size() - 1);
    }
    for (size_t i = 0; i < model_.formats.size(); ++i)
      if (model_.formats[i].name == name && i < formats_.size()) {
        if (nested(body, "columns"))
          diags_.error(nested(body, "columns")->name_span,
                       fmt::format("format `{}` already lists its columns", name));
        return static_cast<FormatId>(i);
      }
    std::vector<std::string> known = {"csv", "tsv", "jsonl", "lines"};
    for (size_t i = 0; i < formats_.size(); ++i) known.push_back(model_.formats[i].name);
    std::string guess = did_you_mean(name, known);
    diags_.error(e.span, fmt::format("unknown format `{}` for {}", name, path),
                 guess.empty() ? "formats are csv, tsv, jsonl, lines, or a `format` block's name"
                               : fmt::format("did you mean `{}`?", guess));
    return std::nullopt;
  }

  void check_path_template(const ast::Attribute& a, const Dataset& ds) {
    const std::string& p = a.value.text;
    check_path_placeholders(p, a.value.span, ds.keys, "path", diags_);
    if (fs::path(p).is_absolute() || p.find("..") != std::string::npos)
      diags_.warning(a.value.span, "source paths are best kept inside the workspace");
  }

  void build_source(const ast::Declaration& d, Dataset& ds) {
    reject_clauses(d.body, "a source", true);
    Attrs a(d.body.attributes, diags_);
    const ast::Attribute* path = a.get("path");
    const ast::Attribute* table = a.get("table");
    const ast::Attribute* format = a.get("format");
    if (const auto* eng = a.get("engine")) resolve_engine(eng->value, ds);
    else if (!default_connection_.empty()) resolve_engine_name(default_connection_, default_connection_span_, ds);
    if (path && table) {
      diags_.error(table->name_span, "a source reads files (`path`) or a table (`table`), not both");
    } else if (path) {
      ds.kind = Dataset::Kind::FileSource;
      ds.path_template = path->value.text;
      check_path_template(*path, ds);
      if (!format)
        diags_.error(d.name_span, fmt::format("source `{}` has no format", d.name),
                     "add format = csv (or tsv, jsonl, lines, or a format block's name)");
      else if (auto f = resolve_format(format->value, d.body, ds.path_template))
        ds.format = *f;
    } else if (table) {
      ds.kind = Dataset::Kind::TableSource;
      ds.source_table = table->value.text;
      if (format) diags_.error(format->name_span, "a table source takes no format");
    } else {
      diags_.error(d.name_span, fmt::format("source `{}` says neither `path` nor `table`", d.name),
                   "files: path = \"data/{day}.csv\"; an existing table: table = \"orders\"");
    }
    a.report_unknown("a source block", {"path", "table", "format", "engine"});
    report_unknown_nested(d.body, "a source block", {"columns"});
  }

  // ---- tables ----
  void build_table(const ast::Declaration& d, Dataset& ds, const ast::File& file) {
    const ast::Block& b = d.body;
    attempted_.clear();
    sql_refs_.clear();
    if (const auto* g = nested(b, "group")) build_group(*g, d, ds);
    Attrs a(b.attributes, diags_);
    if (const auto* eng = a.get("engine")) resolve_engine(eng->value, ds);
    else if (!default_connection_.empty()) resolve_engine_name(default_connection_, default_connection_span_, ds);
    const ast::Attribute* format = a.get("format");
    const ast::Attribute* env = a.get("env");
    ds.executor = model_.executor;
    ds.executor.span = Span{};
    const ast::Attribute* executor = a.get("executor");
    if (executor) executor_kind(executor->value, ds.executor);
    const ast::NestedBlock* slurm = nested(b, "slurm");
    if (slurm) slurm_settings(*slurm, ds.executor, false);
    a.report_unknown("a table block", {"engine", "format", "env", "executor"});
    report_unknown_nested(b, "a table block", {"group", "slurm"});
    if (!b.sql.empty() && executor)
      diags_.error(executor->name_span, "`executor` is for command tables: a query runs on its table's engine",
                   "remove it, or set engine = NAME to choose where the query runs");
    if (!b.sql.empty() && slurm)
      diags_.error(slurm->name_span, "a `slurm` block is for command tables: a query runs on its table's engine");
    for (size_t i = 1; i < b.sql.size(); ++i) diags_.error(b.sql[i].span, "a table has one `sql` clause");
    for (size_t i = 1; i < b.command.size(); ++i) diags_.error(b.command[i].span, "a table has one `command` clause");
    if (!b.sql.empty() && !b.command.empty()) {
      diags_.error(b.command[0].span, "a table is computed by `sql` or by `command`, not both");
    } else if (!b.sql.empty()) {
      ds.kind = Dataset::Kind::SqlTable;
      if (format) diags_.error(format->name_span, "`format` is for command tables and sources");
      read_text(b.sql[0], file, ds);
      sql_inputs(ds);
    } else if (!b.command.empty()) {
      ds.kind = Dataset::Kind::CommandTable;
      read_text(b.command[0], file, ds);
      if (b.output.empty())
        diags_.error(b.command[0].span, "a command table needs an `output` path template",
                     "add output \"out/{day}.csv\": the files the command writes");
      else ds.output_template = b.output[0].value;
      if (!b.output.empty())
        check_path_placeholders(ds.output_template, b.output[0].span, ds.keys, "output", diags_);
      if (format) {
        if (auto f = resolve_format(format->value, b, ds.output_template)) ds.format = *f;
      }
      if (env) command_env(env->value, ds);
    } else {
      diags_.error(d.name_span, fmt::format("table `{}` has no `sql` or `command`", d.name),
                   "add sql \"\"\" SELECT ... \"\"\" or sql file \"query.sql\"");
    }
    if (env && ds.kind != Dataset::Kind::CommandTable)
      diags_.error(env->name_span, "`env` is for command tables: it lists the environment variables a command sees");
    declared_inputs(b, ds);
    if (ds.kind == Dataset::Kind::SqlTable) merge_sql_inputs(ds);
    if (ds.grouped()) check_grouped_input(d, ds);
    else check_partitions_determined(d, ds);
    check_templates(ds);
    for (const auto& c : b.checks) build_check(c, ds);
    for (const auto& t : b.tests) build_test(t, ds, file);
  }

  /// `env = ["AWS_PROFILE", "PGPASSWORD"]`: names of environment variables the command sees.
  void command_env(const ast::Expr& v, Dataset& ds) {
    if (v.kind != ast::Expr::Kind::List) {
      diags_.error(v.span, "`env` takes a list of environment variable names",
                   "env = [\"AWS_PROFILE\", \"PGPASSWORD\"]");
      return;
    }
    for (const auto& item : v.children) {
      bool name = (item.kind == ast::Expr::Kind::String || item.kind == ast::Expr::Kind::Identifier) &&
                  !item.text.empty() && item.text.find_first_of(std::string_view("=\0", 2)) == std::string::npos;
      if (!name) {
        diags_.error(item.span, "expected an environment variable name (a string without `=`)");
        continue;
      }
      ds.command_env.push_back(item.text);
    }
  }

  void resolve_engine(const ast::Expr& v, Dataset& ds) {
    if (v.text == "sqlite" && v.kind == ast::Expr::Kind::Identifier) return;  // the embedded default
    resolve_engine_name(v.text, v.span, ds);
  }
  void resolve_engine_name(const std::string& name, Span span, Dataset& ds) {
    for (size_t i = 0; i < model_.connections.size(); ++i)
      if (model_.connections[i].name == name) {
        ds.connection = static_cast<ConnectionId>(i);
        return;
      }
    diags_.error(span, fmt::format("unknown connection `{}`", name),
                 "declare it: connection NAME { engine = \"postgres\" ... }");
  }

  /// `group { max_count = N  max_size = 64MB  complete_at = N  max_wait = 6h }`. A grouped
  /// table is partitioned by its groups: its one key is the string `group`, set here so that
  /// templates and output paths may use `{group}`.
  void build_group(const ast::NestedBlock& g, const ast::Declaration& d, Dataset& ds) {
    Attrs a(g.attributes, diags_);
    const ast::Attribute* count = a.get("max_count");
    const ast::Attribute* size = a.get("max_size");
    if (count) {
      auto n = parse_size(count->value.text);
      if (count->value.kind != ast::Expr::Kind::Number || !n || *n == 0)
        diags_.error(count->value.span, "max_count is a positive whole number", "at most 9223372036854775807");
      else ds.group_max_count = *n;
    }
    if (size) {
      auto n = parse_size(size->value.text);
      if (!n || *n == 0)
        diags_.error(size->value.span, "max_size is a size such as 64MB",
                     "a whole number of B, KB, MB, GB or TB, above 0 and at most 8191 PB (int64 bytes)");
      else ds.group_max_bytes = *n;
    }
    if (const auto* at = a.get("complete_at")) {
      auto n = parse_size(at->value.text);
      if (at->value.kind != ast::Expr::Kind::Number || !n || *n == 0)
        diags_.error(at->value.span, "complete_at is a positive whole number of inputs",
                     "a group holding that many inputs is built without waiting for more");
      else ds.group_complete_at = *n;
    }
    if (const auto* wait = a.get("max_wait")) {
      auto secs = duration_seconds(wait->value.text);
      if (!secs)
        diags_.error(wait->value.span, fmt::format("`{}` is not a duration", wait->value.text),
                     "write a whole number of s, m, h or d, such as 30m or 6h");
      else ds.group_max_wait_seconds = *secs;
    }
    if (!count && !size) diags_.error(g.name_span, "a group needs max_count or max_size");
    a.report_unknown("a group block", {"max_count", "max_size", "complete_at", "max_wait"});
    if (!ds.grouped()) return;  // the settings' errors are reported: one message per mistake
    if (!d.body.partition.empty())
      diags_.error(d.body.partition[0].name_span, "a grouped table is partitioned by its groups: it takes no partition clause",
                   "remove the partition clause; each group is one partition, with the string key `group`");
    ds.keys.clear();
    ds.keys.push_back({"group", KeyType::String, g.name_span});
  }

  /// `30s`, `30m`, `6h`, `2d`: whole seconds, or nullopt.
  static std::optional<int64_t> duration_seconds(std::string_view t) {
    if (t.size() < 2) return std::nullopt;
    int64_t unit = t.back() == 's' ? 1 : t.back() == 'm' ? 60 : t.back() == 'h' ? 3600 : t.back() == 'd' ? 86400 : 0;
    int64_t n = 0;
    std::string_view digits = t.substr(0, t.size() - 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (unit == 0 || ec != std::errc() || end != digits.data() + digits.size() || n <= 0 ||
        n > INT64_MAX / unit)
      return std::nullopt;
    return n * unit;
  }

  /// The first input of a grouped table is the one grouped: it must have partitions to
  /// gather, and sizes are known only for files.
  void check_grouped_input(const ast::Declaration& d, const Dataset& ds) {
    if (ds.inputs.empty()) {
      if (attempted_.empty())
        diags_.error(d.name_span, fmt::format("grouped table `{}` has no input to group", ds.name),
                     "declare the input whose partitions are gathered first: input events");
      return;
    }
    const Dataset& in = model_.datasets[ds.inputs[0].dataset];
    if (in.keys.empty())
      diags_.error(ds.inputs[0].span, fmt::format("`{}` is unpartitioned: there is nothing to group", in.name),
                   "the first input of a grouped table is the one grouped; declare a partitioned one first");
    else if (ds.group_max_bytes && in.kind != Dataset::Kind::FileSource)
      diags_.error(ds.inputs[0].span, fmt::format("max_size counts file bytes, and `{}` is not a file source", in.name),
                   "group it with max_count instead");
  }

  /// Reads inline or file text; file paths are relative to the rule file.
  void read_text(const ast::Text& t, const ast::File& file, Dataset& ds) {
    if (!t.from_file) {
      ds.text = t.literal.value;
      text_origin_ = TextOrigin{t.literal.span.file, t.literal.content_begin, t.literal.raw};
      ds.text_span = t.literal.span;
      ds.text_begin = t.literal.content_begin;
      ds.text_exact = t.literal.raw;
      return;
    }
    std::string rule_path = ws_.files.path(file.file);
    fs::path p = fs::path(rule_path).parent_path() / t.literal.value;
    auto text = read_file(p.string());
    if (!text.ok()) {
      diags_.error(t.literal.span, fmt::format("cannot read {}", p.string()),
                   "paths of sql and command files are relative to the rule file");
      return;
    }
    ds.text = *text;
    FileId id = ws_.files.add(p.lexically_normal().string(), std::move(*text));
    text_origin_ = TextOrigin{id, 0, true};
    ds.text_span = Span{id, 0, static_cast<uint32_t>(ds.text.size())};
  }

  // Tables the SQL reads, before merging with declared inputs.
  void sql_inputs(Dataset& ds) {
    sql_refs_.clear();
    for (const SqlToken& tok : tokenize_sql(ds.text)) {
      if (tok.kind == SqlToken::Kind::String && tok.text.find("{{") != std::string_view::npos)
        diags_.error(text_origin_.at(tok.offset, static_cast<uint32_t>(tok.text.size())),
                     "a template inside a quoted SQL string is not bound safely",
                     "write the template without quotes: WHERE day = {{ day }} (it is bound as a value)");
    }
    for (const SqlTableRef& r : tables_read(ds.text)) {
      Span at = text_origin_.at(r.offset, r.length);
      auto it = by_lower_name_.find(lower(r.name));
      if (it == by_lower_name_.end()) {
        std::vector<std::string> names;
        for (const auto& x : model_.datasets) names.push_back(x.name);
        std::string guess = did_you_mean(r.name, names);
        diags_.error(at, fmt::format("unknown table `{}` in the query of `{}`", r.name, ds.name),
                     guess.empty() ? fmt::format("declare it as a source (source {} {{ table = \"{}\" }}) or a table",
                                                 r.name, r.name)
                                   : fmt::format("did you mean `{}`?", guess));
        continue;
      }
      sql_refs_.push_back({it->second, at});
    }
  }

  void declared_inputs(const ast::Block& b, Dataset& ds) {
    for (const auto& r : b.inputs) {
      const Dataset* in = model_.find(r.dataset);
      if (!in) {
        std::vector<std::string> names;
        for (const auto& x : model_.datasets) names.push_back(x.name);
        std::string guess = did_you_mean(r.dataset, names);
        diags_.error(r.span, fmt::format("unknown dataset `{}`", r.dataset),
                     guess.empty() ? "declare it as a source or a table" : fmt::format("did you mean `{}`?", guess));
        continue;
      }
      if (std::any_of(ds.inputs.begin(), ds.inputs.end(), [&](auto& i) { return i.dataset == in->id; })) {
        diags_.error(r.span, fmt::format("input `{}` is declared twice", r.dataset));
        continue;
      }
      InputDef input{in->id, {}, true, r.span};
      attempted_.insert(in->id);
      if (bad_keys_.count(in->id) || bad_keys_.count(ds.id)) continue;  // already reported
      if (ds.grouped() && r.mapping)
        diags_.error(r.mapping_span, "a grouped table reads the members of each group, and its other inputs whole",
                     fmt::format("write just `input {}`", r.dataset));
      bool ok = ds.grouped() ? read_whole(*in, r.span, input.terms)
                : r.mapping  ? written_mapping(r, *in, ds, input.terms)
                             : infer_mapping(ds, *in, r.span, input.terms, diags_);
      if (ok) ds.inputs.push_back(std::move(input));
    }
  }

  /// A grouped table's mapping of every input: `*` on each key (the graph narrows the grouped
  /// input to each group's members).
  static bool read_whole(const Dataset& in, Span at, std::vector<MapTerm>& terms) {
    terms.assign(in.keys.size(), MapTerm{});
    for (auto& t : terms) t.span = at;
    return true;
  }

  bool written_mapping(const ast::InputRef& r, const Dataset& in, const Dataset& out,
                       std::vector<MapTerm>& terms) {
    const auto& items = *r.mapping;
    if (in.keys.empty()) {
      diags_.error(r.mapping_span, fmt::format("`{}` is unpartitioned: it takes no mapping", in.name),
                   fmt::format("write just `input {}`", in.name));
      return false;
    }
    std::vector<const ast::MappingItem*> by_key(in.keys.size(), nullptr);
    bool named = items[0].key.has_value();
    for (size_t i = 0; i < items.size(); ++i) {
      const auto& item = items[i];
      if (item.key.has_value() != named) {
        diags_.error(item.value.span, "write every term as `key = term`, or none");
        return false;
      }
      size_t slot = i;
      if (named) {
        auto it = std::find_if(in.keys.begin(), in.keys.end(), [&](auto& k) { return k.name == *item.key; });
        if (it == in.keys.end()) {
          diags_.error(item.key_span, fmt::format("`{}` has no key `{}`", in.name, *item.key));
          return false;
        }
        slot = static_cast<size_t>(it - in.keys.begin());
      }
      if (slot >= in.keys.size() || by_key[slot]) {
        diags_.error(r.mapping_span,
                     fmt::format("`{}` has {} partition key{}, so its mapping has {} term{}", in.name,
                                 in.keys.size(), in.keys.size() == 1 ? "" : "s", in.keys.size(),
                                 in.keys.size() == 1 ? "" : "s"));
        return false;
      }
      by_key[slot] = &item;
    }
    bool ok = true;
    for (size_t k = 0; k < in.keys.size(); ++k) {
      if (!by_key[k]) {
        diags_.error(r.mapping_span, fmt::format("the mapping gives no term for key `{}` of `{}`",
                                                 in.keys[k].name, in.name));
        return false;
      }
      auto t = check_map_term(by_key[k]->value, in.keys[k], out.keys, diags_);
      if (t) terms.push_back(*t);
      else ok = false;
    }
    return ok;
  }

  void merge_sql_inputs(Dataset& ds) {
    for (const auto& [id, at] : sql_refs_) {
      if (!attempted_.insert(id).second) continue;
      InputDef input{id, {}, false, at};
      if (id == ds.id) {
        input.terms.assign(ds.keys.size(), MapTerm{});  // reported as a cycle
        ds.inputs.push_back(std::move(input));
        continue;
      }
      if (bad_keys_.count(id) || bad_keys_.count(ds.id)) continue;  // already reported
      bool ok = ds.grouped() ? read_whole(model_.datasets[id], at, input.terms)
                             : infer_mapping(ds, model_.datasets[id], at, input.terms, diags_);
      if (ok) ds.inputs.push_back(std::move(input));
    }
  }

  /// A partitioned table's partitions come from an input that determines every key.
  void check_partitions_determined(const ast::Declaration& d, const Dataset& ds) {
    if (ds.keys.empty() || bad_keys_.count(ds.id) || attempted_.size() > ds.inputs.size()) return;
    for (const auto& in : ds.inputs)
      if (input_determines_keys(in, ds.keys.size())) return;
    std::string keys;
    for (const auto& k : ds.keys) keys += (keys.empty() ? "`" : ", `") + k.name + "`";
    diags_.error(d.name_span,
                 fmt::format("cannot tell which partitions `{}` has: no input determines {}", ds.name, keys),
                 "a table's partitions come from its inputs: map an input onto every key, as in "
                 "`input events[day]`, or drop the partition clause");
  }

  // ---- templates ----
  void check_templates(Dataset& ds) {
    if (ds.text.empty()) return;
    ds.parts = split_templates(ds.text, text_origin_, diags_);
    for (const auto& part : ds.parts)
      if (part.is_template) check_template_expr(part.expr, ds);
  }

  void check_template_expr(const ast::Expr& e, const Dataset& ds) {
    using K = ast::Expr::Kind;
    if (e.kind == K::Identifier) {
      bool key = std::any_of(ds.keys.begin(), ds.keys.end(), [&](auto& k) { return k.name == e.text; });
      bool output = e.text == "output" && ds.kind == Dataset::Kind::CommandTable;
      if (key || output || model_.vars.count(e.text)) return;
      std::vector<std::string> names;
      for (const auto& k : ds.keys) names.push_back(k.name);
      for (const auto& [n, v] : model_.vars) names.push_back(n);
      std::string guess = did_you_mean(e.text, names);
      diags_.error(e.span, fmt::format("unknown name `{}` in template", e.text),
                   guess.empty() ? fmt::format("templates use the table's partition keys and variables; "
                                               "declare it with: var {} = ...", e.text)
                                 : fmt::format("did you mean `{}`?", guess));
      return;
    }
    if (e.kind == K::Binary && mentions_key(e, ds)) check_template_shift(e.children.back());
    if (e.kind == K::Call) {
      if (!template_function(e.text))
        diags_.error(e.span, fmt::format("unknown template function `{}`", e.text),
                     fmt::format("template functions: {}", template_function_names()));
      else if (e.children.size() != 1)
        diags_.error(e.span, fmt::format("{}() takes one argument, a date, month or hour key", e.text));
      else
        check_template_call_key(e, ds);
    }
    for (const auto& c : e.children) check_template_expr(c, ds);
  }

  /// A template function applied to a key needs a key of a type it takes (as the build does).
  void check_template_call_key(const ast::Expr& call, const Dataset& ds) {
    const ast::Expr& arg = call.children[0];
    if (arg.kind != ast::Expr::Kind::Identifier) return;
    auto key = std::find_if(ds.keys.begin(), ds.keys.end(), [&](auto& k) { return k.name == arg.text; });
    if (key == ds.keys.end()) return;
    bool hour_only = template_function(call.text) == TemplateFn::Hour;
    bool ok = hour_only ? key->type == KeyType::Hour
                        : key->type == KeyType::Date || key->type == KeyType::Month || key->type == KeyType::Hour;
    if (!ok)
      diags_.error(arg.span, fmt::format("{}() needs {} key, but `{}` is a {} key", call.text,
                                         hour_only ? "an hour" : "a date, month or hour", key->name,
                                         key_type_name(key->type)));
  }

  static bool mentions_key(const ast::Expr& e, const Dataset& ds) {
    if (e.kind == ast::Expr::Kind::Identifier)
      return std::any_of(ds.keys.begin(), ds.keys.end(), [&](auto& k) { return k.name == e.text; });
    return std::any_of(e.children.begin(), e.children.end(), [&](auto& c) { return mentions_key(c, ds); });
  }

  /// Key arithmetic in a template (`day - 1`) shifts by a whole number of at most kMaxShift.
  void check_template_shift(const ast::Expr& n) {
    if (n.kind != ast::Expr::Kind::Number) return;
    int64_t v = 0;
    auto [end, ec] = std::from_chars(n.text.data(), n.text.data() + n.text.size(), v);
    if (ec == std::errc() && end == n.text.data() + n.text.size() && v <= kMaxShift) return;
    diags_.error(n.span, fmt::format("`{}` is not a shift of at most {} steps", n.text, kMaxShift),
                 "key arithmetic moves by whole steps of the key, as in `day - 1`");
  }

  // ---- checks ----
  void build_check(const ast::Check& c, Dataset& ds) {
    CheckDef def;
    def.span = c.span;
    if (c.label) def.label = c.label->value;
    if (c.query) {
      def.kind = CheckKind::CustomSql;
      def.sql = c.query->literal.value;
      if (c.query->from_file) diags_.error(c.query->span, "check queries are written inline");
      if (def.label.empty()) def.label = "custom check";
      ds.checks.push_back(std::move(def));
      return;
    }
    if (!c.condition) return;
    const ast::Expr& e = *c.condition;
    if (e.kind == ast::Expr::Kind::Call && (e.text == "not_null" || e.text == "unique" || e.text == "accepted_values")) {
      def.kind = e.text == "not_null" ? CheckKind::NotNull : e.text == "unique" ? CheckKind::Unique : CheckKind::AcceptedValues;
      for (size_t i = 0; i < e.children.size(); ++i) {
        const auto& arg = e.children[i];
        bool value_arg = def.kind == CheckKind::AcceptedValues && i > 0;
        if (value_arg) def.values.push_back(arg.text);
        else if (arg.kind == ast::Expr::Kind::Identifier) {
          def.columns.push_back(arg.text);
          def.column_spans.push_back(arg.span);
        }
        else diags_.error(arg.span, "expected a column name");
      }
      if (def.columns.empty()) diags_.error(e.span, fmt::format("{}() needs at least one column", e.text));
      if (def.kind == CheckKind::AcceptedValues && def.values.empty())
        diags_.error(e.span, "accepted_values(column, \"a\", \"b\") lists the values");
    } else if (e.kind == ast::Expr::Kind::Binary && e.children.size() == 2 &&
               e.children[0].kind == ast::Expr::Kind::Identifier && e.children[0].text == "row_count" &&
               e.children[1].kind == ast::Expr::Kind::Number && e.text != "+" && e.text != "-" &&
               e.text != "*" && e.text != "/") {
      def.kind = CheckKind::RowCount;
      def.op = e.text;
      const std::string& n = e.children[1].text;
      auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), def.count);
      if (ec != std::errc() || end != n.data() + n.size()) {
        diags_.error(e.children[1].span, fmt::format("`{}` is not a row count", n),
                     "row_count compares with a whole number from 0 to 9223372036854775807");
        return;
      }
    } else {
      diags_.error(e.span, "unknown check",
                   "checks: not_null(col), unique(col, ...), accepted_values(col, \"a\", ...), "
                   "row_count > N, or \"label\" sql \"\"\"SELECT failing rows\"\"\"");
      return;
    }
    if (def.label.empty()) def.label = std::string(ws_.files.text(e.span.file).substr(e.span.begin, e.span.end - e.span.begin));
    ds.checks.push_back(std::move(def));
  }

  // ---- tests ----
  void build_test(const ast::Test& t, Dataset& ds, const ast::File& file) {
    TestDef def;
    def.name = t.name.value;
    def.span = t.span;
    for (const auto& a : t.attributes) {
      if (a.name == "partition" && a.value.kind == ast::Expr::Kind::String) {
        def.partition = a.value.text;
        continue;
      }
      diags_.error(a.name_span, fmt::format("unknown attribute `{}` in a test", a.name),
                   "a test holds `partition = \"2024-03-05\"`, `given DATASET \"\"\"rows\"\"\"` and "
                   "`expect \"\"\"rows\"\"\"`");
    }
    for (const auto& g : t.given) {
      const Dataset* in = model_.find(g.dataset);
      if (!in) {
        diags_.error(g.dataset_span, fmt::format("unknown dataset `{}`", g.dataset));
        continue;
      }
      if (!attempted_.count(in->id))
        diags_.error(g.dataset_span, fmt::format("`{}` does not read `{}`", ds.name, g.dataset),
                     "give rows only for the tables the query reads");
      if (auto rows = read_rows(g.rows, file)) def.given.push_back({in->id, std::move(*rows)});
    }
    if (t.expect.size() != 1) {
      diags_.error(t.span, fmt::format("test \"{}\" needs one `expect` clause", def.name));
    } else if (auto rows = read_rows(t.expect[0], file)) {
      def.expect = std::move(*rows);
    }
    if (ds.kind != Dataset::Kind::SqlTable)
      diags_.error(t.span, "tests run a table's SQL query; this table has none");
    ds.tests.push_back(std::move(def));
  }

  std::optional<RowTable> read_rows(const ast::Text& t, const ast::File& file) {
    if (!t.from_file) {
      TextOrigin origin{t.literal.span.file, t.literal.content_begin, t.literal.raw};
      return parse_pipe_table(t.literal.value, origin, diags_);
    }
    fs::path p = fs::path(ws_.files.path(file.file)).parent_path() / t.literal.value;
    auto text = read_file(p.string());
    if (!text.ok()) {
      diags_.error(t.literal.span, fmt::format("cannot read {}", p.string()));
      return std::nullopt;
    }
    FileId id = ws_.files.add(p.lexically_normal().string(), std::move(*text));
    return parse_csv_table(ws_.files.text(id), TextOrigin{id, 0, true}, diags_);
  }

  /// A query reads tables in the warehouse: a command table's output must be loaded there.
  void check_queries_read_loaded_data() {
    for (const auto& ds : model_.datasets) {
      if (ds.kind != Dataset::Kind::SqlTable) continue;
      for (const auto& in : ds.inputs) {
        const Dataset& from = model_.datasets[in.dataset];
        if (from.connection != ds.connection) {
          auto where = [&](const Dataset& x) {
            return x.connection == kNone ? std::string("the workspace's warehouse")
                                         : fmt::format("connection `{}`", model_.connections[x.connection].name);
          };
          diags_.error(in.span, fmt::format("`{}` runs on {} and reads `{}`, which is on {}: a query reads only "
                                            "tables of its own engine, and dbuild copies no data between engines",
                                            ds.name, where(ds), from.name, where(from)),
                       fmt::format("put both on one engine (engine = NAME on `{}` or on `{}`), or load `{}` where "
                                   "`{}` runs with a source of its own", ds.name, from.name, from.name, ds.name));
          continue;
        }
        if (from.kind != Dataset::Kind::CommandTable || from.format != kNone) continue;
        diags_.error(in.span, fmt::format("`{}` is computed by a command, and its output is not loaded into the "
                                          "warehouse for `{}` to read", from.name, ds.name),
                     fmt::format("give `{}` a format (format = csv) to load what its command writes", from.name));
      }
    }
  }

  // ---- order ----
  void order_datasets() {
    size_t n = model_.datasets.size();
    std::vector<int> state(n, 0);  // 0 new, 1 on stack, 2 done
    std::vector<DatasetId> order;
    bool cycle = false;
    // Depth-first, with an explicit stack (a chain of tables may be long): each frame is a
    // dataset and the index of its next input to visit.
    std::vector<std::pair<DatasetId, size_t>> frames;
    std::vector<DatasetId> stack;  // the datasets of `frames`, for printing a cycle
    for (DatasetId root = 0; root < n; ++root) {
      if (state[root] != 0) continue;
      state[root] = 1;
      frames.push_back({root, 0});
      stack.push_back(root);
      while (!frames.empty()) {
        auto& [id, next] = frames.back();
        const auto& inputs = model_.datasets[id].inputs;
        if (next == inputs.size()) {
          state[id] = 2;
          order.push_back(id);
          frames.pop_back();
          stack.pop_back();
          continue;
        }
        DatasetId in = inputs[next++].dataset;
        if (state[in] == 1) {
          report_cycle(stack, in);
          cycle = true;
        } else if (state[in] == 0) {
          state[in] = 1;
          frames.push_back({in, 0});
          stack.push_back(in);
        }
      }
    }
    if (cycle) return;
    std::vector<DatasetId> new_id(n);
    for (size_t i = 0; i < n; ++i) new_id[order[i]] = static_cast<DatasetId>(i);
    std::vector<Dataset> sorted(n);
    for (size_t i = 0; i < n; ++i) {
      sorted[new_id[i]] = std::move(model_.datasets[i]);
      sorted[new_id[i]].id = new_id[i];
      for (auto& in : sorted[new_id[i]].inputs) in.dataset = new_id[in.dataset];
      for (auto& t : sorted[new_id[i]].tests)
        for (auto& g : t.given) g.first = new_id[g.first];
    }
    model_.datasets = std::move(sorted);
    for (auto& [name, id] : model_.by_name) id = new_id[id];
  }

  void report_cycle(const std::vector<DatasetId>& stack, DatasetId back_to) {
    auto start = std::find(stack.begin(), stack.end(), back_to);
    std::string path;
    for (auto it = start; it != stack.end(); ++it) path += model_.datasets[*it].name + " -> ";
    path += model_.datasets[back_to].name;
    diags_.error(model_.datasets[back_to].span, fmt::format("dependency cycle: {}", path),
                 "a table cannot read itself, directly or through other tables");
  }

  Workspace& ws_;
  const ModelOptions& options_;
  Diagnostics& diags_;
  Model model_;
  std::vector<DeclRef> vars_, formats_, connections_, datasets_, workspace_blocks_;
  bool workspace_seen_ = false;
  std::string default_connection_;
  Span default_connection_span_;
  TextOrigin text_origin_;
  std::vector<std::pair<DatasetId, Span>> sql_refs_;
  std::set<DatasetId> bad_keys_;   // datasets with an unknown key type: mappings not checked
  std::set<DatasetId> attempted_;  // inputs of the current table, valid or not
  std::map<std::string, DatasetId> by_lower_name_;  // lower-cased names: SQL names ignore case
};

}  // namespace

Model build_model(Workspace& ws, const ModelOptions& options, Diagnostics& diags) {
  // Meaning is not checked inside declarations with syntax errors: whatever is missing was
  // already reported, and a second message about it would only be noise.
  Diagnostics semantic;
  Model model = ModelBuilder(ws, options, semantic).build();
  std::vector<Span> broken;
  for (const auto& file : ws.asts)
    for (const auto& decl : file.declarations)
      if (decl.has_syntax_error) broken.push_back(decl.span);
  for (const auto& d : semantic.items()) {
    bool inside = std::any_of(broken.begin(), broken.end(), [&](const Span& s) {
      return s.file == d.span.file && s.begin <= d.span.begin && d.span.begin < s.end;
    });
    if (!inside) diags.add(d);
  }
  return model;
}

}  // namespace dbuild
