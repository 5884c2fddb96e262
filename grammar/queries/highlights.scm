; Syntax highlighting for dbuild rule files (tree-sitter 0.20 query syntax).
; Patterns are ordered from specific to general: tree-sitter-highlight uses the
; first pattern that captures a node.

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
(variable_declaration name: (identifier) @variable)
(test_block name: (string) @string.special)
(check_clause label: (string) @string.special)

; ---- Statements ----

(partition_key name: (identifier) @parameter)
(partition_key type: (identifier) @type)
(field_declaration name: (identifier) @property)
(field_declaration type: (identifier) @type)
(field_declaration format: (string) @string.special)
(attribute name: (identifier) @property)
(nested_block name: (identifier) @property)
(input_ref dataset: (identifier) @type)
(given_clause dataset: (identifier) @type)
(mapping_item key: (identifier) @property)

; ---- Expressions ----

(call function: (identifier) @function.builtin)

; SCREAMING_CASE names read as constants.
((identifier) @constant
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

(identifier) @variable
