#include "lsp/document.h"

#include <tree_sitter/api.h>

#include "syntax/rules_parser.h"

namespace dbuild::lsp {
namespace {

/// Tree-sitter's point (row, byte column) of a byte offset.
TSPoint point_of(std::string_view text, uint32_t offset) {
  uint32_t row = 0, line_start = 0;
  for (uint32_t i = 0; i < offset && i < text.size(); ++i)
    if (text[i] == '\n') {
      ++row;
      line_start = i + 1;
    }
  return TSPoint{row, offset - line_start};
}

}  // namespace

Document::Document(std::string text, int64_t version)
    : text_(std::move(text)), version_(version), parser_(ts_parser_new()) {
  ts_parser_set_language(parser_, tree_sitter_dbuild());
  parse();
}

Document::~Document() {
  if (tree_) ts_tree_delete(tree_);
  ts_parser_delete(parser_);
}

void Document::apply_change(const std::optional<Range>& range, std::string_view text) {
  if (!range) {  // the whole text: nothing to reuse
    text_.assign(text);
    if (tree_) ts_tree_delete(tree_);
    tree_ = nullptr;
    edited_ = false;
    return;
  }
  TextIndex index(text_);
  uint32_t begin = index.offset_of(range->start);
  uint32_t end = std::max(begin, index.offset_of(range->end));
  TSInputEdit edit;
  edit.start_byte = begin;
  edit.old_end_byte = end;
  edit.new_end_byte = begin + static_cast<uint32_t>(text.size());
  edit.start_point = point_of(text_, begin);
  edit.old_end_point = point_of(text_, end);
  text_.replace(begin, end - begin, text);
  edit.new_end_point = point_of(text_, edit.new_end_byte);
  if (tree_) {
    ts_tree_edit(tree_, &edit);
    edited_ = true;
  }
}

void Document::parse() {
  TSTree* old = tree_;
  tree_ = ts_parser_parse_string(parser_, old, text_.data(), static_cast<uint32_t>(text_.size()));
  if (old && edited_) ++incremental_parses_;
  if (old) ts_tree_delete(old);
  edited_ = false;
}

}  // namespace dbuild::lsp
