SELECT "a""b", `c`, [d e], 'it''s' FROM "odd ""name""" x, [br]] y -- done
/* block */ WHERE x.v <> y.v || 's'