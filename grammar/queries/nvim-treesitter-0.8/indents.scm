; Indentation for dbuild rule files, in the capture names of nvim-treesitter's tags v0.7.2 to
; v0.8.5.2 (Neovim 0.7 and 0.8). Use it in place of ../indents.scm with those tags: they fail
; on the newer names. Same rules as ../indents.scm.

[
  (block)
  (test_body)
] @indent

"}" @branch @indent_end

; In a multi-line string (a query, a fixture) a new line starts where the one above starts
; ('autoindent'), and reindenting leaves its lines as they are.
((string) @auto
  (#match? @auto "^\"\"\""))
