#include "lsp/features.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "model/sql_lexer.h"

namespace dbuild::lsp {
namespace {

// CompletionItemKind and SymbolKind values of the protocol.
constexpr int kCompletionKeyword = 14, kCompletionClass = 7, kCompletionField = 5, kCompletionFunction = 3,
              kCompletionVariable = 6, kCompletionModule = 9;
constexpr int kSymbolClass = 5, kSymbolField = 8, kSymbolVariable = 13, kSymbolModule = 2, kSymbolStruct = 23,
              kSymbolKey = 20, kSymbolEvent = 24;

/// The type of a column as the rules write it (model.h declares column_kind_name but nothing
/// defines it).
const char* column_type(ColumnKind k) {
  switch (k) {
    case ColumnKind::String: return "string";
    case ColumnKind::Int: return "int";
    case ColumnKind::Float: return "float";
    case ColumnKind::Bool: return "bool";
    case ColumnKind::Date: return "date";
    case ColumnKind::Timestamp: return "timestamp";
  }
  return "?";
}

bool is_ident(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const ast::File* ast_of(const Snapshot& s, FileId file) {
  if (!s.ws) return nullptr;
  for (const auto& f : s.ws->asts)
    if (f.file == file) return &f;
  return nullptr;
}

/// The declaration whose name is at `span` (a dataset's Dataset::span).
const ast::Declaration* declaration_named_at(const Snapshot& s, Span span) {
  const ast::File* f = ast_of(s, span.file);
  if (!f) return nullptr;
  for (const auto& d : f->declarations)
    if (d.name_span.begin == span.begin) return &d;
  return nullptr;
}

std::string_view file_text(const Snapshot& s, Span span) {
  if (!s.ws || span.file >= s.ws->files.size()) return {};
  std::string_view t = s.ws->files.text(span.file);
  if (span.begin > span.end || span.end > t.size()) return {};
  return t.substr(span.begin, span.end - span.begin);
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

}  // namespace

// ---- URIs and positions ----

std::optional<std::string> uri_to_path(std::string_view uri) {
  if (!uri.starts_with("file://")) return std::nullopt;
  uri.remove_prefix(7);
  if (!uri.starts_with("/")) {  // file://host/path: only the local host
    size_t slash = uri.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    uri.remove_prefix(slash);
  }
  std::string out;
  for (size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%' && i + 2 < uri.size() && hex(uri[i + 1]) >= 0 && hex(uri[i + 2]) >= 0) {
      out += static_cast<char>(hex(uri[i + 1]) * 16 + hex(uri[i + 2]));
      i += 2;
    } else {
      out += uri[i];
    }
  }
  return absolute_path(out);
}

std::string path_to_uri(const std::string& abs_path) {
  std::string out = "file://";
  for (unsigned char c : abs_path) {
    if (std::isalnum(c) || std::strchr("/-._~", c)) out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

const TextIndex& Locator::index(FileId file) {
  auto it = indexes_.find(file);
  if (it == indexes_.end()) {
    std::string_view text = s_.ws && file < s_.ws->files.size() ? s_.ws->files.text(file) : std::string_view();
    it = indexes_.emplace(file, TextIndex(text)).first;
  }
  return it->second;
}

json Locator::range(FileId file, uint32_t begin, uint32_t end) {
  const TextIndex& idx = index(file);
  Position a = idx.position_of(begin), b = idx.position_of(end);
  return {{"start", {{"line", a.line}, {"character", a.character}}},
          {"end", {{"line", b.line}, {"character", b.character}}}};
}

json Locator::location(FileId file, uint32_t begin, uint32_t end) {
  return {{"uri", uri(file)}, {"range", range(file, begin, end)}};
}

uint32_t Locator::offset(FileId file, Position p) { return index(file).offset_of(p); }

// ---- definition, references, rename ----

json definition(const Snapshot& s, Locator& loc, FileId file, uint32_t offset) {
  const Occurrence* o = s.at(file, offset);
  if (!o) return nullptr;
  const Occurrence* d = s.declaration_of(o->kind, o->name);
  if (!d) return nullptr;
  return loc.location(d->file, d->begin, d->end);
}

json references(const Snapshot& s, Locator& loc, FileId file, uint32_t offset, bool include_declaration) {
  json out = json::array();
  const Occurrence* o = s.at(file, offset);
  if (!o) return out;
  for (const Occurrence* r : s.all_of(*o))
    if (include_declaration || !r->declaration) out.push_back(loc.location(r->file, r->begin, r->end));
  return out;
}

namespace {

Result<const Occurrence*> renameable_at(const Snapshot& s, FileId file, uint32_t offset) {
  const Occurrence* o = s.at(file, offset);
  if (!o) return Status::Error("only a dataset name can be renamed: put the cursor on one");
  if (o->kind != Occurrence::Kind::Dataset)
    return Status::Error(fmt::format("only datasets can be renamed, `{}` is a {}", o->name, kind_name(o->kind)));
  const Occurrence* d = s.declaration_of(o->kind, o->name);
  if (!d) return Status::Error(fmt::format("`{}` is not declared in this workspace", o->name));
  if (s.ws && d->file < s.ws->imported.size() && s.ws->imported[d->file])
    return Status::Error(fmt::format("`{}` is declared in an imported file outside the workspace", o->name));
  return o;
}

}  // namespace

Result<json> prepare_rename(const Snapshot& s, Locator& loc, FileId file, uint32_t offset) {
  auto o = renameable_at(s, file, offset);
  if (!o.ok()) return o.status();
  return json{{"range", loc.range(file, (*o)->begin, (*o)->end)}, {"placeholder", (*o)->name}};
}

Result<json> rename(const Snapshot& s, Locator& loc, FileId file, uint32_t offset, const std::string& new_name) {
  auto o = renameable_at(s, file, offset);
  if (!o.ok()) return o.status();
  bool valid = !new_name.empty() && !std::isdigit(static_cast<unsigned char>(new_name[0])) &&
               std::all_of(new_name.begin(), new_name.end(), is_ident);
  if (!valid)
    return Status::Error(fmt::format("`{}` is not a name: use letters, digits and _, not starting with a digit", new_name));
  const Occurrence* existing = s.declaration_of(Occurrence::Kind::Dataset, new_name);
  if (existing && lower(existing->name) != lower((*o)->name))
    return Status::Error(fmt::format("a dataset `{}` already exists", new_name));
  json changes = json::object();
  for (const Occurrence* r : s.all_of(**o)) {
    std::string uri = loc.uri(r->file);
    if (!changes.contains(uri)) changes[uri] = json::array();
    changes[uri].push_back({{"range", loc.range(r->file, r->begin, r->end)}, {"newText", new_name}});
  }
  return json{{"changes", changes}};
}

// ---- document symbols ----

json document_symbols(const Snapshot& s, Locator& loc, FileId file) {
  json out = json::array();
  const ast::File* f = ast_of(s, file);
  if (!f) return out;
  auto symbol = [&](const std::string& name, const std::string& detail, int kind, Span whole, Span sel) {
    if (sel.file == kNoFile) sel = whole;
    if (sel.begin < whole.begin || sel.end > whole.end) whole = sel;
    return json{{"name", name.empty() ? "?" : name}, {"detail", detail}, {"kind", kind},
                {"range", loc.range(file, whole.begin, whole.end)},
                {"selectionRange", loc.range(file, sel.begin, sel.end)}, {"children", json::array()}};
  };
  using K = ast::Declaration::Kind;
  for (const auto& d : f->declarations) {
    if (d.kind == K::Import) continue;
    int kind = d.kind == K::Var ? kSymbolVariable
               : d.kind == K::Workspace ? kSymbolModule
               : d.kind == K::Connection || d.kind == K::Format ? kSymbolStruct : kSymbolClass;
    std::string name = d.kind == K::Workspace ? "workspace" : d.name;
    json sym = symbol(name, ast::kind_name(d.kind), kind, d.span, d.kind == K::Workspace ? d.span : d.name_span);
    for (const auto& k : d.body.partition)
      sym["children"].push_back(symbol(k.name, "partition " + k.type, kSymbolKey, k.name_span, k.name_span));
    for (const auto& in : d.body.inputs)
      sym["children"].push_back(symbol(in.dataset, "input", kSymbolField, in.span, in.span));
    for (const auto& nb : d.body.nested) {
      json child = symbol(nb.name, "block", kSymbolStruct, nb.span, nb.name_span);
      for (const auto& fd : nb.fields)
        child["children"].push_back(symbol(fd.name, fd.type, kSymbolField, fd.name_span, fd.name_span));
      sym["children"].push_back(std::move(child));
    }
    for (const auto& t : d.body.tests)
      sym["children"].push_back(symbol(t.name.value, "test", kSymbolEvent, t.span, t.name.span));
    out.push_back(std::move(sym));
  }
  return out;
}

// ---- completion ----

namespace {

struct SqlContext {
  std::string_view sql;  // the whole SQL text
  uint32_t begin = 0;    // its offset in the file
  const ast::Declaration* decl = nullptr;
};

/// The SQL or command text of this file that holds `offset`: inline texts from the AST (so a
/// declaration with errors still completes), or the whole file when it is a `.sql` file.
std::optional<SqlContext> text_at(const Snapshot& s, FileId file, uint32_t offset) {
  if (const ast::File* f = ast_of(s, file)) {
    for (const auto& d : f->declarations) {
      if (offset < d.span.begin || offset > d.span.end) continue;
      auto in = [&](const ast::Text& t) -> std::optional<SqlContext> {
        if (t.from_file || !t.literal.raw) return std::nullopt;
        uint32_t b = t.literal.content_begin;
        if (offset < b || offset > b + t.literal.value.size()) return std::nullopt;
        return SqlContext{t.literal.value, b, &d};
      };
      for (const auto& t : d.body.sql)
        if (auto c = in(t)) return c;
      for (const auto& t : d.body.command)
        if (auto c = in(t)) return c;
    }
    return std::nullopt;
  }
  for (const auto& ds : s.model.datasets)
    if (ds.text_span.file == file && ds.text_exact)
      return SqlContext{ds.text, ds.text_begin, declaration_named_at(s, ds.span)};
  return std::nullopt;
}

json item(const std::string& label, int kind, const std::string& detail = "") {
  json j{{"label", label}, {"kind", kind}};
  if (!detail.empty()) j["detail"] = detail;
  return j;
}

void add_datasets(const Snapshot& s, json& out) {
  std::set<std::string> seen;
  if (!s.ws) return;
  for (const auto& f : s.ws->asts)
    for (const auto& d : f.declarations)
      if ((d.kind == ast::Declaration::Kind::Source || d.kind == ast::Declaration::Kind::Table) &&
          !d.name.empty() && seen.insert(d.name).second)
        out.push_back(item(d.name, kCompletionClass, ast::kind_name(d.kind)));
}

/// alias -> dataset for `FROM t [AS] a` and `JOIN t [AS] a` in `sql`.
std::map<std::string, std::string> sql_aliases(std::string_view sql) {
  static const std::set<std::string> kNotAlias = {"where", "join", "left", "right", "inner", "outer", "full",
                                                  "cross", "on", "using", "group", "order", "limit", "union",
                                                  "having", "window", "natural", "except", "intersect"};
  std::map<std::string, std::string> out;
  auto toks = tokenize_sql(sql);
  std::erase_if(toks, [](const SqlToken& t) { return t.kind == SqlToken::Kind::Comment; });
  for (size_t i = 0; i + 1 < toks.size(); ++i) {
    std::string w = lower(toks[i].text);
    if (toks[i].kind != SqlToken::Kind::Word || (w != "from" && w != "join")) continue;
    if (toks[i + 1].kind != SqlToken::Kind::Word && toks[i + 1].kind != SqlToken::Kind::QuotedIdent) continue;
    std::string table = identifier_name(toks[i + 1]);
    out[lower(table)] = table;
    size_t a = i + 2;
    if (a < toks.size() && lower(toks[a].text) == "as") ++a;
    if (a < toks.size() && toks[a].kind == SqlToken::Kind::Word && !kNotAlias.count(lower(toks[a].text)))
      out[lower(toks[a].text)] = table;
  }
  return out;
}

void add_columns(const Snapshot& s, const std::string& dataset, json& out) {
  const Dataset* ds = nullptr;
  for (const auto& d : s.model.datasets)
    if (lower(d.name) == lower(dataset)) ds = &d;
  if (!ds) return;
  for (const auto& k : ds->keys) out.push_back(item(k.name, kCompletionField, std::string("key ") + key_type_name(k.type)));
  if (ds->format != kNone && ds->format < s.model.formats.size())
    for (const auto& c : s.model.formats[ds->format].columns)
      out.push_back(item(c.name, kCompletionField, column_type(c.kind)));
}

void add_template_terms(const Snapshot& s, const ast::Declaration* decl, json& out) {
  for (const auto& [name, v] : s.model.vars) out.push_back(item(name, kCompletionVariable, "var"));
  if (decl)
    for (const auto& k : decl->body.partition) out.push_back(item(k.name, kCompletionField, "partition " + k.type));
  for (const char* fn : {"month", "date", "year", "hour"}) out.push_back(item(fn, kCompletionFunction, "template function"));
}

json sql_completion(const Snapshot& s, const SqlContext& c, uint32_t offset) {
  json out = json::array();
  std::string_view before = c.sql.substr(0, std::min<size_t>(offset - c.begin, c.sql.size()));
  size_t open = before.rfind("{{"), close = before.rfind("}}");
  if (open != std::string_view::npos && (close == std::string_view::npos || close < open)) {
    add_template_terms(s, c.decl, out);
    return out;
  }
  size_t w = before.size();
  while (w > 0 && is_ident(before[w - 1])) --w;
  if (w > 0 && before[w - 1] == '.') {  // alias.column
    size_t a = w - 1;
    while (a > 0 && is_ident(before[a - 1])) --a;
    auto aliases = sql_aliases(c.sql);
    auto it = aliases.find(lower(before.substr(a, w - 1 - a)));
    if (it != aliases.end()) add_columns(s, it->second, out);
    return out;
  }
  add_datasets(s, out);
  return out;
}

bool ends_with_word_after(std::string_view line, std::string_view keyword) {
  size_t w = line.size();
  while (w > 0 && is_ident(line[w - 1])) --w;
  size_t sp = w;
  while (sp > 0 && (line[sp - 1] == ' ' || line[sp - 1] == '\t' || line[sp - 1] == ',')) --sp;
  if (sp == w) return false;
  std::string_view rest = line.substr(0, sp);
  if (keyword == "input") {  // `input a, b` continues the list
    size_t at = rest.rfind("input");
    return at != std::string_view::npos && (at == 0 || !is_ident(rest[at - 1])) &&
           rest.substr(at + 5).find_first_of("[]") == std::string_view::npos;
  }
  return rest.size() >= keyword.size() && rest.substr(rest.size() - keyword.size()) == keyword &&
         (rest.size() == keyword.size() || !is_ident(rest[rest.size() - keyword.size() - 1]));
}

}  // namespace

json completion(const Snapshot& s, FileId file, uint32_t offset, std::string_view text) {
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(text.size()));
  if (auto c = text_at(s, file, offset)) return sql_completion(s, *c, offset);
  json out = json::array();
  size_t line_begin = text.rfind('\n', offset == 0 ? 0 : offset - 1);
  line_begin = line_begin == std::string_view::npos || offset == 0 ? 0 : line_begin + 1;
  std::string_view line = text.substr(line_begin, offset - line_begin);
  const ast::File* f = ast_of(s, file);
  const ast::Declaration* decl = nullptr;
  if (f)
    for (const auto& d : f->declarations)
      if (offset > d.span.begin && offset < d.span.end) decl = &d;
  if (ends_with_word_after(line, "input") || ends_with_word_after(line, "given")) {
    add_datasets(s, out);
    return out;
  }
  size_t bracket = line.rfind('[');
  if (bracket != std::string_view::npos && line.find(']', bracket) == std::string_view::npos &&
      line.find("input") != std::string_view::npos) {  // a mapping: output keys and key functions
    if (decl)
      for (const auto& k : decl->body.partition) out.push_back(item(k.name, kCompletionField, "partition " + k.type));
    for (const char* fn : {"month", "date", "days", "hours"}) out.push_back(item(fn, kCompletionFunction, "key function"));
    out.push_back(item("*", kCompletionKeyword, "every partition"));
    return out;
  }
  if (ends_with_word_after(line, "=")) {
    std::string_view l = line;
    while (!l.empty() && is_ident(l.back())) l.remove_suffix(1);
    while (!l.empty() && (l.back() == ' ' || l.back() == '=')) l.remove_suffix(1);
    bool format = l.ends_with("format"), engine = l.ends_with("engine") || l.ends_with("default_connection");
    if (format)
      for (const char* k : {"csv", "tsv", "jsonl", "lines"}) out.push_back(item(k, kCompletionKeyword, "format"));
    for (const auto& o : s.occurrences)
      if (o.declaration && ((format && o.kind == Occurrence::Kind::Format) || (engine && o.kind == Occurrence::Kind::Connection)))
        out.push_back(item(o.name, kCompletionModule, kind_name(o.kind)));
    return out;
  }
  std::string_view word = line.substr(std::min(line.size(), line.find_first_not_of(" \t")));
  if (std::all_of(word.begin(), word.end(), is_ident)) {  // where a statement may start
    static const char* kTop[] = {"import", "var", "workspace", "connection", "format", "source", "table"};
    static const char* kBlock[] = {"partition", "input", "sql", "command", "output", "check", "test", "columns",
                                   "path", "format", "engine", "executor", "slurm", "env", "group", "given", "expect"};
    if (decl && decl->kind != ast::Declaration::Kind::Var && decl->kind != ast::Declaration::Kind::Import)
      for (const char* k : kBlock) out.push_back(item(k, kCompletionKeyword));
    else
      for (const char* k : kTop) out.push_back(item(k, kCompletionKeyword));
    if (decl)
      for (const char* k : {"not_null", "unique", "accepted_values", "row_count"})
        out.push_back(item(k, kCompletionFunction, "check"));
  }
  return out;
}

// ---- hover ----

namespace {

const char* dataset_kind(const Dataset& ds) {
  switch (ds.kind) {
    case Dataset::Kind::FileSource: return "source (files)";
    case Dataset::Kind::TableSource: return "source (table)";
    case Dataset::Kind::SqlTable: return "table (SQL)";
    case Dataset::Kind::CommandTable: return "table (command)";
  }
  return "dataset";
}

std::string dataset_hover(const Snapshot& s, const Dataset& ds, const CountsFn& counts) {
  std::string out = fmt::format("**{}** `{}`\n\n", dataset_kind(ds), ds.name);
  if (ds.keys.empty()) out += "unpartitioned\n\n";
  else {
    out += "partition ";
    for (size_t i = 0; i < ds.keys.size(); ++i)
      out += fmt::format("{}`{}: {}`", i ? ", " : "", ds.keys[i].name, key_type_name(ds.keys[i].type));
    out += "\n\n";
  }
  if (ds.format != kNone && ds.format < s.model.formats.size()) {
    const FormatDef& f = s.model.formats[ds.format];
    out += fmt::format("format `{}`", f.name);
    if (!f.columns.empty()) {
      out += ", columns ";
      for (size_t i = 0; i < f.columns.size(); ++i)
        out += fmt::format("{}`{}: {}`", i ? ", " : "", f.columns[i].name, column_type(f.columns[i].kind));
    }
    out += "\n\n";
  }
  if (!ds.path_template.empty()) out += fmt::format("path `{}`\n\n", ds.path_template);
  if (!ds.source_table.empty()) out += fmt::format("table `{}`\n\n", ds.source_table);
  if (!ds.inputs.empty()) {
    const ast::Declaration* decl = declaration_named_at(s, ds.span);
    out += "inputs:\n";
    for (const auto& in : ds.inputs) {
      if (in.dataset >= s.model.datasets.size()) continue;
      std::string written(s.model.datasets[in.dataset].name);
      if (decl)  // the mapping as written in the `input` clause
        for (const auto& ref : decl->body.inputs)
          if (ref.span.begin == in.span.begin && ref.mapping) written += std::string(file_text(s, ref.mapping_span));
      out += fmt::format("- `{}`{}\n", written, in.declared ? "" : " (read by the query)");
    }
    out += "\n";
  }
  std::string engine = "the warehouse";
  if (ds.connection != kNone && ds.connection < s.model.connections.size())
    engine = fmt::format("connection `{}` ({})", s.model.connections[ds.connection].name,
                         s.model.connections[ds.connection].engine);
  if (ds.kind == Dataset::Kind::CommandTable) out += fmt::format("executor {}\n\n", ds.executor.kind);
  else out += fmt::format("engine: {}\n\n", engine);
  if (counts) {
    std::string c = counts(ds);
    if (!c.empty()) out += c + "\n";
  }
  return out;
}

}  // namespace

std::string hover_text(const Snapshot& s, const Occurrence& o, const CountsFn& counts) {
  switch (o.kind) {
    case Occurrence::Kind::Dataset:
      for (const auto& ds : s.model.datasets)
        if (lower(ds.name) == lower(o.name)) return dataset_hover(s, ds, counts);
      return fmt::format("dataset `{}` (not in the model: see the diagnostics)", o.name);
    case Occurrence::Kind::Var: {
      auto it = s.model.vars.find(o.name);
      if (it == s.model.vars.end()) return fmt::format("var `{}`", o.name);
      return it->second.value ? fmt::format("**var** `{}` = `{}`", o.name, *it->second.value)
                              : fmt::format("**var** `{}` (no default: give it with --var {}=VALUE)", o.name, o.name);
    }
    case Occurrence::Kind::Connection:
      for (const auto& c : s.model.connections)
        if (c.name == o.name) return fmt::format("**connection** `{}`: engine {}", c.name, c.engine);
      return fmt::format("connection `{}`", o.name);
    case Occurrence::Kind::Format:
      for (const auto& f : s.model.formats)
        if (f.name == o.name) {
          std::string cols;
          for (const auto& c : f.columns) cols += fmt::format("{}`{}: {}`", cols.empty() ? "" : ", ", c.name, column_type(c.kind));
          return fmt::format("**format** `{}`{}{}", f.name, cols.empty() ? "" : ", columns ", cols);
        }
      return fmt::format("format `{}`", o.name);
  }
  return "";
}

}  // namespace dbuild::lsp
