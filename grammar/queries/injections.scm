; Language injections for dbuild rule files (tree-sitter 0.20 query syntax).
; Only inline texts are injected; `sql file "..."` and `command file "..."` hold paths.
;
; Each pattern carries both conventions on the same node, so every engine finds its own and
; the text is injected once:
;   - `@injection.content` + `(#set! injection.language ...)`: tree-sitter's highlighter,
;     Helix, Neovim >= 0.9;
;   - `@content` + `(#set! language ...)`: Neovim 0.7 and 0.8, which read `language` and
;     take any other capture name (here `injection.content`) as a language without a parser,
;     which they skip silently.
; Two separate patterns would inject the text twice on Neovim 0.9, which reads both forms.

; `sql """..."""` in a table, and the query of `check "label" sql """..."""`
; (check_clause wraps a sql_clause, so this pattern covers both).
(sql_clause
  text: (string (string_content) @injection.content @content)
  (#set! injection.language "sql")
  (#set! language "sql"))

; `command "..."`
(command_clause
  text: (string (string_content) @injection.content @content)
  (#set! injection.language "bash")
  (#set! language "bash"))
