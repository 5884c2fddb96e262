; Indentation for dbuild rule files: the statements of a block sit one level deeper than the
; block's opening line, and its `}` goes back to that line's level.
;
; Nodes carry the names of three conventions, and each engine reads only its own:
;   - nvim-treesitter from tag v0.9.0 on (`@indent.begin`, `@indent.branch`, `@indent.end`,
;     `@indent.ignore`);
;   - nvim-treesitter up to tag v0.8.5.2, the ones for Neovim 0.7 and 0.8 (`@indent`,
;     `@branch`, `@indent_end`, `@ignore`);
;   - Helix (`@indent`, `@outdent`).
; tree-sitter allows at most three captures on one node of a pattern, hence two `}` patterns.

[
  (block)
  (test_body)
] @indent.begin @indent

"}" @indent.branch @indent.end
"}" @branch @indent_end @outdent

; A multi-line string (a query, a fixture) keeps its lines as written.
((string) @indent.ignore @ignore
  (#match? @indent.ignore "^\"\"\""))
