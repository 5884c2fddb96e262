#pragma once
/// The checked model of a workspace: every dataset with its partition keys, inputs and
/// mappings, formats, connections and variables, resolved across files and imports.
/// Built by build_model() (model_builder.h); immutable afterwards and safe to share
/// between threads. Ids are dense indices into the Model's vectors.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/source_files.h"
#include "model/key_type.h"
#include "syntax/ast.h"

namespace dbuild {

using DatasetId = uint32_t;
using FormatId = uint32_t;
using ConnectionId = uint32_t;
inline constexpr uint32_t kNone = UINT32_MAX;

/// A partition key of a dataset: `day: date`.
struct PartitionKeyDef {
  std::string name;
  KeyType type = KeyType::Date;
  Span span;
};

/// Column types a format can load.
enum class ColumnKind { String, Int, Float, Bool, Date, Timestamp };
const char* column_kind_name(ColumnKind k);

struct ColumnDef {
  std::string name;
  ColumnKind kind = ColumnKind::String;
  std::string parse_format;  // strptime-style for Date/Timestamp; empty: ISO 8601
  Span span;
};

/// How files are read: a built-in kind, or a user `format` block.
struct FormatDef {
  enum class Kind { Csv, Tsv, JsonLines, Lines, Regex };
  std::string name;
  Kind kind = Kind::Csv;
  std::vector<ColumnDef> columns;   // empty for csv/tsv: every header column as a string
  char delimiter = ',';
  bool header = true;
  std::string pattern;              // Regex: RE2, one capture group per column
  std::string null_token;           // empty: no null token
  bool skip_malformed = false;
  Span span;
};

/// A named engine. Secrets are names of environment variables, never values.
struct ConnectionDef {
  std::string name;
  std::string engine;                           // "sqlite", "postgres"
  std::map<std::string, std::string> settings;  // literal settings (host, port, path...)
  std::map<std::string, std::string> env;       // setting -> environment variable name
  Span span;
};

/// Where a command table's jobs run, and what they ask a batch scheduler for: `executor =
/// local | slurm` and a `slurm { queue = "..." time = "1h" cpus = 2 mem = "4G" }` block (`queue`
/// is SLURM's partition: `partition` is a keyword of the rules), on
/// the table or in the workspace block (a table's settings override the workspace's, one by
/// one). Not part of any key: moving a step to a cluster does not rebuild it, because the
/// command and its inputs are the same.
struct ExecutorDef {
  std::string kind = "local";  // "local" or "slurm"
  Span span;                   // where the kind was chosen; empty: the default
  // slurm settings, already in SLURM's own forms; empty or 0: the cluster's default.
  std::string partition;        // `queue`
  std::string time;            // minutes ("60") or days-hours:minutes:seconds ("2-00:00:00")
  int cpus = 0;
  std::string mem;             // "4G", "512M"
  int max_jobs = 0;            // workspace only: jobs queued or running at once; 0: 100
};

/// One term of a mapping: which values of one input key an output partition reads.
/// Terms are expressions over the output's keys; see mapping semantics in docs/language.md.
struct MapTerm {
  enum class Kind {
    Key,       // out_key + offset
    Range,     // lo .. hi (each a Key term with offset)
    Month,     // month(out_key): out_key is a date or hour
    Date,      // date(out_key): out_key is an hour
    Days,      // days(out_key): every day of the month out_key
    Hours,     // hours(out_key): every hour of the day out_key
    All,       // *: every partition
    Literal,   // a fixed value (text form)
  };
  Kind kind = Kind::All;
  uint32_t out_key = kNone;  // index into the output's keys
  int64_t offset = 0;        // Key: shift; Range: low shift
  int64_t offset_hi = 0;     // Range: high shift (both relative to out_key)
  std::string literal;       // Literal: the value's text form
  Span span;
};

/// An input of a dataset: another dataset and, per input key, the term selecting its values.
struct InputDef {
  DatasetId dataset = kNone;
  std::vector<MapTerm> terms;  // one per input key, in the input's key order
  bool declared = false;       // from an `input` clause (else inferred from the SQL)
  Span span;                   // where it was declared or read
};

enum class CheckKind { NotNull, Unique, AcceptedValues, RowCount, CustomSql };

struct CheckDef {
  CheckKind kind = CheckKind::NotNull;
  std::string label;                 // user label or a generated description
  std::vector<std::string> columns;  // NotNull, Unique, AcceptedValues (first)
  std::vector<Span> column_spans;    // where each of `columns` is written
  std::vector<std::string> values;   // AcceptedValues
  std::string op;                    // RowCount: == != < <= > >=
  int64_t count = 0;                 // RowCount
  std::string sql;                   // CustomSql
  Span span;
};

/// Rows of a fixture or an expectation: a header and text cells.
struct RowTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  Span span;
};

struct TestDef {
  std::string name;
  std::string partition;  // `partition = "1995-07-01"`: the partition the query runs for;
                          // empty: taken from the given rows' key columns
  std::vector<std::pair<DatasetId, RowTable>> given;
  RowTable expect;
  Span span;
};

/// A piece of SQL or command text: literal text and `{{ expr }}` templates.
struct TemplatePart {
  bool is_template = false;
  std::string text;         // literal text, or the template's source
  ast::Expr expr;           // the parsed template (is_template)
};

struct Dataset {
  enum class Kind { FileSource, TableSource, SqlTable, CommandTable };
  DatasetId id = kNone;
  std::string name;
  Kind kind = Kind::SqlTable;
  Span span;                               // the name in its declaration
  std::vector<PartitionKeyDef> keys;       // empty: unpartitioned
  std::vector<InputDef> inputs;            // in declaration order, then SQL order
  // FileSource
  std::string path_template;               // relative to the workspace root
  FormatId format = kNone;
  // TableSource
  std::string source_table;
  // SqlTable / CommandTable
  std::string text;                        // the SQL or the command, as written
  std::vector<TemplatePart> parts;         // `text` split into literal text and templates
  Span text_span;                          // the string literal, or the whole .sql file
  uint32_t text_begin = 0;                 // where `text` starts in text_span.file
  bool text_exact = true;                  // offsets in `text` map one to one into the file
  std::string output_template;             // CommandTable: files it writes
  std::vector<std::string> command_env;    // CommandTable: environment variables passed to the
                                           // command beyond the default set (`env = [...]`)
  ConnectionId connection = kNone;         // kNone: the workspace's default engine
  std::vector<CheckDef> checks;
  std::vector<TestDef> tests;
  ExecutorDef executor;                    // CommandTable: where its jobs run
  // Grouping (`group { ... }`, docs/language.md section 14): the first input's partitions are
  // gathered into groups; the table then has the one string key `group` and reads every
  // other input whole.
  uint64_t group_max_count = 0;            // 0: no count limit
  uint64_t group_max_bytes = 0;            // 0: no size limit (file-source inputs only)
  uint64_t group_complete_at = 0;          // 0: never complete by count alone
  int64_t group_max_wait_seconds = 0;      // 0: waiting is never reported as overdue
  bool is_source() const { return kind == Kind::FileSource || kind == Kind::TableSource; }
  bool grouped() const { return group_max_count != 0 || group_max_bytes != 0; }
};

struct VarDef {
  std::string name;
  std::optional<std::string> value;  // text form; unset: must be given with --var
  Span span;
};

struct Model {
  std::string root;                          // workspace root directory (absolute)
  std::string warehouse = "warehouse.db";    // relative to root
  std::vector<Dataset> datasets;             // in topological order: inputs come first
  std::vector<FormatDef> formats;
  std::vector<ConnectionDef> connections;
  std::map<std::string, VarDef> vars;
  ExecutorDef executor;                      // the workspace's default for command tables
  std::map<std::string, DatasetId, std::less<>> by_name;

  const Dataset* find(std::string_view name) const {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : &datasets[it->second];
  }
};

}  // namespace dbuild
