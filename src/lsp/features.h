#pragma once
/// The language features over one Snapshot: definition, references, rename, document
/// symbols, completion and hover texts. Each is a pure function of the snapshot and a byte
/// offset; protocol positions are converted by Locator. Results are protocol JSON.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "lsp/analysis.h"
#include "lsp/positions.h"

namespace dbuild::lsp {

using json = nlohmann::json;

/// `file:///a%20b/c.dbuild` <-> `/a b/c.dbuild`; nullopt for a URI that is not a file.
std::optional<std::string> uri_to_path(std::string_view uri);
std::string path_to_uri(const std::string& abs_path);

/// Converts byte ranges of a snapshot's files to protocol ranges, indexing each file once.
class Locator {
 public:
  explicit Locator(const Snapshot& s) : s_(s) {}
  json range(FileId file, uint32_t begin, uint32_t end);
  json location(FileId file, uint32_t begin, uint32_t end);
  uint32_t offset(FileId file, Position p);
  std::string uri(FileId file) const { return path_to_uri(s_.abs_path(file)); }

 private:
  const TextIndex& index(FileId file);
  const Snapshot& s_;
  std::map<FileId, TextIndex> indexes_;
};

json definition(const Snapshot& s, Locator& loc, FileId file, uint32_t offset);
json references(const Snapshot& s, Locator& loc, FileId file, uint32_t offset, bool include_declaration);
/// The range and current name of a renameable dataset at `offset`, or why not.
Result<json> prepare_rename(const Snapshot& s, Locator& loc, FileId file, uint32_t offset);
/// A WorkspaceEdit renaming the dataset at `offset` everywhere, or why not.
Result<json> rename(const Snapshot& s, Locator& loc, FileId file, uint32_t offset, const std::string& new_name);
json document_symbols(const Snapshot& s, Locator& loc, FileId file);
/// CompletionItems for `offset` in `file`, whose current text is `text`.
json completion(const Snapshot& s, FileId file, uint32_t offset, std::string_view text);

/// Partition counts of one dataset for hovers ("12 partitions: 10 built, ..."), or "".
using CountsFn = std::function<std::string(const Dataset&)>;
/// Markdown describing the occurrence's target, or "" when there is nothing to say.
std::string hover_text(const Snapshot& s, const Occurrence& o, const CountsFn& counts);

}  // namespace dbuild::lsp
