#pragma once
/// One open document of the editor: its text (the unsaved buffer, which wins over the file on
/// disk), its version, and its tree-sitter tree, kept in step with every edit. An edit is
/// applied to the text and to the old tree (ts_tree_edit), and parse() reparses with the old
/// tree, so tree-sitter reuses every subtree the edit did not touch. Not thread-safe.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lsp/positions.h"

extern "C" {
struct TSTree;
struct TSParser;
}

namespace dbuild::lsp {

struct Range {
  Position start;
  Position end;
};

class Document {
 public:
  Document(std::string text, int64_t version);
  ~Document();
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

  /// Replaces `range` (whole text when unset) by `text`; positions are clamped. The tree is
  /// edited, not reparsed: call parse() after the last change of a batch.
  void apply_change(const std::optional<Range>& range, std::string_view text);
  /// Reparses the text, incrementally when a tree exists.
  void parse();

  const std::string& text() const { return text_; }
  int64_t version() const { return version_; }
  void set_version(int64_t v) { version_ = v; }
  /// The current tree (after parse()); null when tree-sitter gave none.
  const TSTree* tree() const { return tree_; }
  /// How many times the tree was reparsed from an edited tree rather than from nothing.
  int incremental_parses() const { return incremental_parses_; }

 private:
  std::string text_;
  int64_t version_ = 0;
  TSParser* parser_ = nullptr;
  TSTree* tree_ = nullptr;
  bool edited_ = false;  // the tree was edited since the last parse
  int incremental_parses_ = 0;
};

}  // namespace dbuild::lsp
