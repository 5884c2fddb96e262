/**
 * Tree-sitter grammar of dbuild's rules language.
 *
 * A rule file is a list of declarations:
 *
 *   import "std/access_log"
 *   var threshold = 400
 *   workspace { warehouse = "warehouse.db" }
 *   connection pg { engine = "postgres"  password = env("PGPASSWORD") }
 *   format common_log { ... }
 *   source raw_logs { path = "data/raw/{month}.log"  partition month: month }
 *   table daily_logs { partition day: date  input raw_logs[month(day)]  sql """ ... """ }
 *
 * Whitespace and newlines carry no meaning; `#` starts a comment to the end of the line.
 * Everything that is not syntax (which attributes a block accepts, key types, mappings,
 * templates inside strings) is checked by the model stage, so errors there get precise messages.
 */

const PREC = {
  range: 1,
  compare: 2,
  add: 3,
  mul: 4,
  unary: 5,
  call: 6,
};

const commaSep1 = (rule) => seq(rule, repeat(seq(',', rule)), optional(','));
// Clauses end where the next statement starts, so they take no trailing comma.
const commaList1 = (rule) => seq(rule, repeat(seq(',', rule)));

module.exports = grammar({
  name: 'dbuild',

  word: $ => $.identifier,

  extras: $ => [/\s/, $.comment],

  rules: {
    source_file: $ => repeat($._declaration),

    _declaration: $ => choice(
      $.import_declaration,
      $.variable_declaration,
      $.workspace_block,
      $.connection_block,
      $.format_block,
      $.source_block,
      $.table_block,
    ),

    import_declaration: $ => seq('import', field('path', $.string)),

    // `var threshold = 400`; `var run_date` has no default and must be given with --var.
    variable_declaration: $ => prec.right(seq(
      'var', field('name', $.identifier), optional(seq('=', field('value', $._expression))),
    )),

    workspace_block: $ => seq('workspace', field('body', $.block)),
    connection_block: $ => seq('connection', field('name', $.identifier), field('body', $.block)),
    format_block: $ => seq('format', field('name', $.identifier), field('body', $.block)),
    source_block: $ => seq('source', field('name', $.identifier), field('body', $.block)),
    table_block: $ => seq('table', field('name', $.identifier), field('body', $.block)),

    block: $ => seq('{', repeat($._statement), '}'),

    _statement: $ => choice(
      $.attribute,
      $.nested_block,
      $.field_declaration,
      $.partition_clause,
      $.input_clause,
      $.sql_clause,
      $.command_clause,
      $.output_clause,
      $.check_clause,
      $.test_block,
      ';',
    ),

    attribute: $ => seq(field('name', $.identifier), '=', field('value', $._expression)),

    nested_block: $ => seq(field('name', $.identifier), field('body', $.block)),

    // `status: int` inside `columns { }`; `time: timestamp "%d/%b/%Y:%H:%M:%S %z"`.
    field_declaration: $ => prec.right(seq(
      field('name', $.identifier), ':', field('type', $.identifier),
      optional(field('format', $.string)),
    )),

    // `partition day: date, country: string`
    partition_clause: $ => seq('partition', commaList1($.partition_key)),
    partition_key: $ => seq(field('name', $.identifier), ':', field('type', $.identifier)),

    // `input raw_logs[month(day)], events[day - 6 .. day], lookup[*]`
    input_clause: $ => prec.right(seq('input', commaList1($.input_ref))),
    input_ref: $ => seq(field('dataset', $.identifier), optional(field('mapping', $.mapping))),
    mapping: $ => seq('[', commaSep1($.mapping_item), ']'),
    mapping_item: $ => seq(
      optional(seq(field('key', $.identifier), '=')),
      field('value', choice($._expression, $.star)),
    ),
    star: $ => '*',

    sql_clause: $ => seq('sql', $._text),
    command_clause: $ => seq('command', $._text),
    output_clause: $ => seq('output', field('path', $.string)),
    _text: $ => choice(field('text', $.string), seq('file', field('file', $.string))),

    // `check unique(url)`, `check row_count > 0`, `check "no negative hits" sql """..."""`
    check_clause: $ => prec(1, seq(
      'check',
      optional(field('label', $.string)),
      choice(field('condition', $._expression), field('query', $.sql_clause)),
    )),

    test_block: $ => seq('test', field('name', $.string), field('body', $.test_body)),
    test_body: $ => seq('{', repeat(choice($.given_clause, $.expect_clause, $.attribute)), '}'),
    given_clause: $ => seq('given', field('dataset', $.identifier), $._text),
    expect_clause: $ => seq('expect', $._text),

    _expression: $ => choice(
      $.identifier,
      $.number,
      $.string,
      $.boolean,
      $.call,
      $.binary_expression,
      $.unary_expression,
      $.range,
      $.list,
      $.parenthesized,
    ),

    call: $ => prec(PREC.call, seq(
      field('function', $.identifier), field('arguments', $.arguments),
    )),
    arguments: $ => seq('(', optional(commaSep1($._expression)), ')'),

    binary_expression: $ => choice(
      ...[['+', PREC.add], ['-', PREC.add], ['*', PREC.mul], ['/', PREC.mul],
        ['==', PREC.compare], ['!=', PREC.compare], ['<', PREC.compare],
        ['<=', PREC.compare], ['>', PREC.compare], ['>=', PREC.compare]]
        .map(([op, p]) => prec.left(p, seq(
          field('left', $._expression), field('operator', op), field('right', $._expression),
        ))),
    ),
    unary_expression: $ => prec(PREC.unary, seq(field('operator', '-'), field('operand', $._expression))),
    range: $ => prec.left(PREC.range, seq(field('from', $._expression), '..', field('to', $._expression))),
    list: $ => seq('[', optional(commaSep1($._expression)), ']'),
    parenthesized: $ => seq('(', $._expression, ')'),

    boolean: $ => choice('true', 'false'),
    number: $ => /\d+(\.\d+)?([KMGT]B|[smhd])?/,

    string: $ => choice(
      seq('"""', optional(alias($._triple_content, $.string_content)), token.immediate('"""')),
      seq('"', optional(alias($._double_content, $.string_content)), token.immediate('"')),
      seq("'", optional(alias($._single_content, $.string_content)), token.immediate("'")),
    ),
    // Content outranks comments, so a string may start with `#`.
    _triple_content: $ => token.immediate(prec(1, /([^"]|"[^"]|""[^"])+/)),
    _double_content: $ => token.immediate(prec(1, /([^"\\\n]|\\.)+/)),
    _single_content: $ => token.immediate(prec(1, /[^'\n]+/)),

    identifier: $ => /[A-Za-z_][A-Za-z0-9_]*/,
    comment: $ => token(seq('#', /.*/)),
  },
});
