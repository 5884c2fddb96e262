; Folds for dbuild rule files (nvim-treesitter's convention: each `@fold` node is a fold
; from its first line to its last). A block folds from its declaration's line to its `}`;
; a multi-line string (a query, a fixture) folds on its own.

[
  (block)
  (test_body)
] @fold

((string) @fold
  (#match? @fold "^\"\"\""))
