; Syntax highlighting for dbuild rule files (tree-sitter 0.20 query syntax).
; No node is captured by two patterns with different names, so the result does not depend on
; the engine's order rule: tree-sitter's highlighter and Helix apply the first matching
; pattern, Neovim (up to 0.9 at least) the last. There is therefore no catch-all
; `(identifier)` pattern: names are captured in the positions that give them a meaning, and a
; special string colours its content (a child of the string node), the way escape sequences
; do in other grammars. grammar_test.cc checks that no node gets two names.

(comment) @comment

; ---- Keywords ----

[
  "import"
  "var"
  "workspace"
  "connection"
  "format"
  "source"
  "table"
  "partition"
  "input"
  "sql"
  "command"
  "output"
  "check"
  "test"
  "given"
  "expect"
  "file"
  "true"
  "false"
] @keyword

; ---- Declarations ----

(connection_block name: (identifier) @type.definition)
(format_block name: (identifier) @type.definition)
(source_block name: (identifier) @type.definition)
(table_block name: (identifier) @type.definition)
(test_block name: (string (string_content) @string.special))
(check_clause label: (string (string_content) @string.special))

; ---- Statements ----

(partition_key name: (identifier) @parameter)
(partition_key type: (identifier) @type)
(field_declaration name: (identifier) @property)
(field_declaration type: (identifier) @type)
(field_declaration format: (string (string_content) @string.special))
(attribute name: (identifier) @property)
(nested_block name: (identifier) @property)
(input_ref dataset: (identifier) @type)
(given_clause dataset: (identifier) @type)
(mapping_item key: (identifier) @property)

; ---- Expressions ----

(call function: (identifier) @function.builtin)

; Names of variables and key values where an expression is expected, and the declared name
; of a `var`; SCREAMING_CASE names read as constants. The two lists must stay equal.
([
  (variable_declaration name: (identifier) @variable)
  (variable_declaration value: (identifier) @variable)
  (attribute value: (identifier) @variable)
  (mapping_item value: (identifier) @variable)
  (check_clause condition: (identifier) @variable)
  (arguments (identifier) @variable)
  (binary_expression left: (identifier) @variable)
  (binary_expression right: (identifier) @variable)
  (unary_expression operand: (identifier) @variable)
  (range from: (identifier) @variable)
  (range to: (identifier) @variable)
  (list (identifier) @variable)
  (parenthesized (identifier) @variable)
 ]
  (#not-match? @variable "^[A-Z][A-Z0-9_]*$"))

([
  (variable_declaration name: (identifier) @constant)
  (variable_declaration value: (identifier) @constant)
  (attribute value: (identifier) @constant)
  (mapping_item value: (identifier) @constant)
  (check_clause condition: (identifier) @constant)
  (arguments (identifier) @constant)
  (binary_expression left: (identifier) @constant)
  (binary_expression right: (identifier) @constant)
  (unary_expression operand: (identifier) @constant)
  (range from: (identifier) @constant)
  (range to: (identifier) @constant)
  (list (identifier) @constant)
  (parenthesized (identifier) @constant)
 ]
  (#match? @constant "^[A-Z][A-Z0-9_]*$"))

(number) @number
(string) @string
(star) @operator

(binary_expression operator: _ @operator)
(unary_expression operator: _ @operator)
[
  "="
  ".."
] @operator

[
  "("
  ")"
  "["
  "]"
  "{"
  "}"
] @punctuation.bracket

[
  ","
  ":"
  ";"
] @punctuation.delimiter

