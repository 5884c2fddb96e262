#pragma once
/// The typed syntax tree of one rule file, built from tree-sitter's concrete tree.
/// Every node keeps the byte span it came from; strings hold their unescaped value.
/// The AST says nothing about meaning: which attributes a block accepts, key types and
/// mappings are checked by the model stage.
#include <optional>
#include <string>
#include <vector>

#include "base/source_files.h"

namespace dbuild::ast {

/// An expression: attribute values, mapping terms, check conditions.
struct Expr {
  enum class Kind { Identifier, Number, String, Bool, Call, Binary, Unary, Range, List, Star };
  Kind kind = Kind::Identifier;
  Span span;
  /// Identifier: the name; Number: the literal text; String: the value; Bool: "true"/"false";
  /// Call: the function name; Binary/Unary: the operator.
  std::string text;
  /// Call: arguments; Binary and Range: {left, right}; Unary: {operand}; List: items.
  std::vector<Expr> children;
};

/// A string literal: its value and where its content starts in the file (for mapping
/// positions inside the string, such as `{{ day }}` templates). Raw strings (single or triple
/// quoted) map offsets one to one; `raw` is false for escaped double-quoted strings.
struct StringLit {
  std::string value;
  Span span;             // the whole literal, quotes included
  uint32_t content_begin = 0;
  bool raw = true;
};

/// Text given inline (`sql """..."""`) or by file (`sql file "q.sql"`).
struct Text {
  bool from_file = false;
  StringLit literal;     // the inline text, or the file path
  Span span;             // the whole clause
};

struct Attribute {
  std::string name;
  Span name_span;
  Expr value;
};

/// `name: type "format"` inside a nested block such as `columns { }`.
struct FieldDecl {
  std::string name;
  Span name_span;
  std::string type;
  Span type_span;
  std::optional<StringLit> format;
};

struct PartitionKey {
  std::string name;
  Span name_span;
  std::string type;
  Span type_span;
};

/// One term of an input mapping: `month(day)`, `day = day - 1`, `*`.
struct MappingItem {
  std::optional<std::string> key;  // named term (`key = value`); unset: positional
  Span key_span;
  Expr value;
};

/// `raw_logs[month(day)]` in an `input` clause. No mapping: inferred by the model.
struct InputRef {
  std::string dataset;
  Span span;             // the dataset name
  std::optional<std::vector<MappingItem>> mapping;
  Span mapping_span;
};

struct Check {
  std::optional<StringLit> label;
  std::optional<Expr> condition;  // `check unique(url)`; unset when `query` is set
  std::optional<Text> query;      // `check sql """..."""`
  Span span;
};

struct Given {
  std::string dataset;
  Span dataset_span;
  Text rows;
};

struct Test {
  StringLit name;
  std::vector<Given> given;
  std::vector<Text> expect;
  std::vector<Attribute> attributes;
  Span span;
};

struct Block;

struct NestedBlock {
  std::string name;
  Span name_span;
  std::vector<Attribute> attributes;
  std::vector<FieldDecl> fields;
  Span span;
};

/// The body of a workspace, connection, format, source or table declaration.
struct Block {
  std::vector<Attribute> attributes;
  std::vector<NestedBlock> nested;
  std::vector<FieldDecl> fields;           // fields directly in the body (an error in most places)
  std::vector<PartitionKey> partition;     // all `partition` clauses, in order
  std::vector<Span> partition_clauses;     // span of each `partition` clause
  std::vector<InputRef> inputs;
  std::vector<Text> sql;                   // more than one is an error, reported by the model
  std::vector<Text> command;
  std::vector<StringLit> output;
  std::vector<Check> checks;
  std::vector<Test> tests;
  Span span;
};

struct Declaration {
  enum class Kind { Import, Var, Workspace, Connection, Format, Source, Table };
  Kind kind = Kind::Table;
  std::string name;          // empty for Import and Workspace
  Span name_span;
  Span span;
  StringLit import_path;     // Import
  std::optional<Expr> value; // Var (unset: no default)
  Block body;                // Workspace, Connection, Format, Source, Table
  bool has_syntax_error = false;  // parts may be missing: the model reports nothing inside
};

struct File {
  FileId file = kNoFile;
  std::vector<Declaration> declarations;
};

const char* kind_name(Declaration::Kind kind);

}  // namespace dbuild::ast
