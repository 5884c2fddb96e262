#include "lsp/analysis.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "model/sql_lexer.h"

namespace fs = std::filesystem;

namespace dbuild::lsp {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool same_name(const Occurrence& a, Occurrence::Kind kind, std::string_view name) {
  // SQL is case-insensitive for unquoted names, and the model resolves tables that way.
  return a.kind == kind && (a.name == name || (kind == Occurrence::Kind::Dataset && lower(a.name) == lower(name)));
}

/// Indexes one file's declarations and the names their attributes use.
class AstIndexer {
 public:
  AstIndexer(const std::map<std::string, Occurrence::Kind>& declared, std::vector<Occurrence>& out)
      : declared_(declared), out_(out) {}

  void file(const ast::File& f) {
    for (const auto& d : f.declarations) declaration(d);
  }

 private:
  void add(Occurrence::Kind kind, const std::string& name, Span span, bool decl) {
    if (span.file == kNoFile || name.empty()) return;
    out_.push_back(Occurrence{kind, name, span.file, span.begin, span.end, decl, false});
  }

  /// `format = csv_logs`, `engine = pg`, `default_connection = pg`: a name when it is declared.
  void attribute_ref(const ast::Attribute& a) {
    if (a.value.kind != ast::Expr::Kind::Identifier) return;
    auto it = declared_.find(a.value.text);
    if (it == declared_.end()) return;
    bool wants = (a.name == "format" && it->second == Occurrence::Kind::Format) ||
                 ((a.name == "engine" || a.name == "default_connection") &&
                  it->second == Occurrence::Kind::Connection);
    if (wants) add(it->second, a.value.text, a.value.span, false);
  }

  void declaration(const ast::Declaration& d) {
    using K = ast::Declaration::Kind;
    switch (d.kind) {
      case K::Source:
      case K::Table: add(Occurrence::Kind::Dataset, d.name, d.name_span, true); break;
      case K::Format: add(Occurrence::Kind::Format, d.name, d.name_span, true); break;
      case K::Connection: add(Occurrence::Kind::Connection, d.name, d.name_span, true); break;
      case K::Var: add(Occurrence::Kind::Var, d.name, d.name_span, true); break;
      default: break;
    }
    for (const auto& a : d.body.attributes) attribute_ref(a);
    for (const auto& in : d.body.inputs) add(Occurrence::Kind::Dataset, in.dataset, in.span, false);
    for (const auto& t : d.body.tests)
      for (const auto& g : t.given) add(Occurrence::Kind::Dataset, g.dataset, g.dataset_span, false);
  }

  const std::map<std::string, Occurrence::Kind>& declared_;
  std::vector<Occurrence>& out_;
};

/// Table names and `{{ var }}` uses inside a dataset's SQL or command text.
void index_text(const Snapshot& s, const Dataset& ds, const std::map<std::string, std::string>& datasets_by_lower,
                std::vector<Occurrence>& out) {
  if (ds.text.empty() || ds.text_span.file == kNoFile || !ds.text_exact) return;
  FileId file = ds.text_span.file;
  auto add = [&](Occurrence::Kind kind, const std::string& name, uint32_t offset, size_t length, bool sql) {
    uint32_t begin = ds.text_begin + offset;
    out.push_back(Occurrence{kind, name, file, begin, begin + static_cast<uint32_t>(length), false, sql});
  };
  if (ds.kind == Dataset::Kind::SqlTable) {
    for (const SqlTableRef& r : tables_read(ds.text)) {
      auto it = datasets_by_lower.find(lower(r.name));
      if (it != datasets_by_lower.end()) add(Occurrence::Kind::Dataset, it->second, r.offset, r.length, true);
    }
  }
  // Vars inside templates: every identifier token of `{{ ... }}` that names a var.
  for (const SqlToken& tok : tokenize_sql(ds.text)) {
    if (tok.kind != SqlToken::Kind::Template) continue;
    std::string_view t = tok.text;
    for (size_t i = 0; i < t.size();) {
      if (!(std::isalpha(static_cast<unsigned char>(t[i])) || t[i] == '_')) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < t.size() && (std::isalnum(static_cast<unsigned char>(t[j])) || t[j] == '_')) ++j;
      std::string word(t.substr(i, j - i));
      if (s.model.vars.count(word)) add(Occurrence::Kind::Var, word, tok.offset + static_cast<uint32_t>(i), j - i, false);
      i = j;
    }
  }
}

}  // namespace

const char* kind_name(Occurrence::Kind kind) {
  switch (kind) {
    case Occurrence::Kind::Dataset: return "dataset";
    case Occurrence::Kind::Format: return "format";
    case Occurrence::Kind::Connection: return "connection";
    case Occurrence::Kind::Var: return "var";
  }
  return "?";
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  return (ec ? fs::path(path) : p).lexically_normal().string();
}

std::string Snapshot::abs_path(FileId id) const {
  return ws && id < ws->files.size() ? absolute_path(ws->files.path(id)) : std::string();
}

std::optional<FileId> Snapshot::file_of(const std::string& abs) const {
  auto it = file_ids.find(abs);
  if (it == file_ids.end()) return std::nullopt;
  return it->second;
}

const Occurrence* Snapshot::at(FileId file, uint32_t offset) const {
  auto it = std::lower_bound(occurrences.begin(), occurrences.end(), file,
                             [](const Occurrence& o, FileId f) { return o.file < f; });
  const Occurrence* best = nullptr;
  for (; it != occurrences.end() && it->file == file && it->begin <= offset; ++it)
    if (offset <= it->end) best = &*it;  // the innermost (last starting) wins
  return best;
}

const Occurrence* Snapshot::declaration_of(Occurrence::Kind kind, const std::string& name) const {
  for (const auto& o : occurrences)
    if (o.declaration && same_name(o, kind, name)) return &o;
  return nullptr;
}

std::vector<const Occurrence*> Snapshot::all_of(const Occurrence& target) const {
  std::vector<const Occurrence*> out;
  const Occurrence* decl = declaration_of(target.kind, target.name);
  std::string name = decl ? decl->name : target.name;
  if (decl) out.push_back(decl);
  for (const auto& o : occurrences)
    if (&o != decl && same_name(o, target.kind, name)) out.push_back(&o);
  return out;
}

void index_occurrences(Snapshot& s) {
  if (!s.ws) return;
  for (FileId id = 0; id < s.ws->files.size(); ++id) s.file_ids[s.abs_path(id)] = id;
  std::map<std::string, Occurrence::Kind> declared;
  std::map<std::string, std::string> datasets_by_lower;
  for (const auto& f : s.ws->asts)
    for (const auto& d : f.declarations) {
      using K = ast::Declaration::Kind;
      if (d.name.empty()) continue;
      if (d.kind == K::Format) declared.emplace(d.name, Occurrence::Kind::Format);
      if (d.kind == K::Connection) declared.emplace(d.name, Occurrence::Kind::Connection);
      if (d.kind == K::Source || d.kind == K::Table) datasets_by_lower.emplace(lower(d.name), d.name);
    }
  AstIndexer indexer(declared, s.occurrences);
  for (const auto& f : s.ws->asts) indexer.file(f);
  for (const auto& ds : s.model.datasets) index_text(s, ds, datasets_by_lower, s.occurrences);
  std::stable_sort(s.occurrences.begin(), s.occurrences.end(), [](const Occurrence& a, const Occurrence& b) {
    return a.file != b.file ? a.file < b.file : a.begin < b.begin;
  });
}

}  // namespace dbuild::lsp
