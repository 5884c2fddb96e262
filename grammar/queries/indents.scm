; Indentation for dbuild rule files, in the capture names of nvim-treesitter from tag v0.9.0
; on (Neovim >= 0.9): the statements of a block sit one level deeper than the block's
; opening line, and its `}` goes back to that line's level.
;
; nvim-treesitter fails on a capture name it does not know, so each indent convention has
; its own file: nvim-treesitter-0.8/indents.scm for its tags v0.7.2 to v0.8.5.2 (Neovim 0.7
; and 0.8), helix/indents.scm for Helix. The three must say the same thing.

[
  (block)
  (test_body)
] @indent.begin

"}" @indent.branch @indent.end

; In a multi-line string (a query, a fixture) a new line starts where the one above starts
; ('autoindent'), and reindenting leaves its lines as they are.
((string) @indent.auto
  (#match? @indent.auto "^\"\"\""))
