; Language injections for dbuild rule files (tree-sitter 0.20 query syntax).
; Only inline texts are injected; `sql file "..."` and `command file "..."` hold paths.

; `sql """..."""` in a table, and the query of `check "label" sql """..."""`
; (check_clause wraps a sql_clause, so this pattern covers both).
(sql_clause
  text: (string (string_content) @injection.content)
  (#set! injection.language "sql"))

; `command "..."`
(command_clause
  text: (string (string_content) @injection.content)
  (#set! injection.language "bash"))
