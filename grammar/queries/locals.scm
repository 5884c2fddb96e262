; Scopes, definitions and references for dbuild rule files (tree-sitter 0.20 query syntax).
; Top-level declarations are global; partition keys are local to their block and
; are referenced from input mappings, SQL templates and checks.

; ---- Scopes ----

(source_file) @scope
(block) @scope
(test_body) @scope

; ---- Definitions ----

(table_block name: (identifier) @definition.type)
(source_block name: (identifier) @definition.type)
(format_block name: (identifier) @definition.type)
(connection_block name: (identifier) @definition.type)
(variable_declaration name: (identifier) @definition.var)
(partition_key name: (identifier) @definition.parameter)
(field_declaration name: (identifier) @definition.field)

; ---- References ----

; Dataset names in `input` and `given`, names in expressions and mappings.
(identifier) @reference
