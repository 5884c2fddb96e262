#pragma once
/// One analysis of the whole workspace, as the editor sees it: every rule file (open buffers
/// instead of their files), the model built from them, its diagnostics, and an index of every
/// place a name is declared or used: datasets (declarations, `input` clauses, test fixtures and
/// table names inside SQL text and `.sql` files), formats, connections and vars (inside
/// `{{ }}`). Definition, references, rename and hover are lookups in this index.
///
/// A Snapshot is immutable once built and shared (shared_ptr<const Snapshot>) between the
/// request thread and the SQL checking thread.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/diagnostic.h"
#include "model/model.h"
#include "model/workspace.h"

namespace dbuild::lsp {

/// A name declared or used at a byte range of one file.
struct Occurrence {
  enum class Kind { Dataset, Format, Connection, Var };
  Kind kind = Kind::Dataset;
  std::string name;   // as declared (SQL mentions are matched case-insensitively)
  FileId file = kNoFile;
  uint32_t begin = 0;
  uint32_t end = 0;
  bool declaration = false;
  bool in_sql = false;  // a table name inside SQL text
};
const char* kind_name(Occurrence::Kind kind);

struct Snapshot {
  std::unique_ptr<Workspace> ws;  // null: no workspace (only open documents' syntax is checked)
  Model model;
  Diagnostics diags;              // syntax and model; sorted
  bool model_ok = false;          // no errors: the SQL pass may run
  std::vector<Occurrence> occurrences;  // by file, then offset
  std::map<std::string, FileId> file_ids;  // absolute path -> file

  /// The absolute path of a file of the snapshot.
  std::string abs_path(FileId id) const;
  std::optional<FileId> file_of(const std::string& abs_path) const;
  /// The occurrence covering `offset` in `file` (its end counts: the cursor after a name).
  const Occurrence* at(FileId file, uint32_t offset) const;
  const Occurrence* declaration_of(Occurrence::Kind kind, const std::string& name) const;
  /// Every occurrence of the same name and kind as `o`, declaration first.
  std::vector<const Occurrence*> all_of(const Occurrence& o) const;
};

/// Fills the occurrence index of `s` from its ASTs and model.
void index_occurrences(Snapshot& s);

/// Absolute, normalized form of `path` (relative paths are taken from the current directory,
/// as SourceFiles keeps them).
std::string absolute_path(const std::string& path);

}  // namespace dbuild::lsp
