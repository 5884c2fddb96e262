; Indentation for dbuild rule files, in Helix' capture names. Use it in place of
; ../indents.scm in Helix' runtime. Same rules as ../indents.scm; Helix keeps the lines of a
; string as they are by itself.

[
  (block)
  (test_body)
] @indent

"}" @outdent
