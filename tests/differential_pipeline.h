#pragma once
/// A random pipeline for the differential tester (differential_test.cc): its rule files and
/// data files, random edits of them, and an independent reference model of what an
/// incremental build must recompute after an edit.
///
/// The reference does not use dbuild's code. It knows the pipeline it generated: each table's
/// partitions and the input partitions each one reads (from the mapping rules of
/// docs/language.md §10), each table's semantic definition (what a query or command computes,
/// not how it is formatted), and the content of every partition as its readers see it (rows as
/// a multiset for SQL readers, bytes for command readers), taken from a from-scratch build.
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace dbuild::difftest {

/// How an output partition `day` reads an input (docs/language.md §10).
enum class Mapping {
  Identity,    // input[day]
  Shift,       // input[day - 1], input[day - 2]
  Window,      // input[day - 2 .. day], input[day - 3 .. day - 1]...
  MonthOfDay,  // input[month(day)] (a monthly input)
  All,         // input[*]
  Whole,       // the input or the output is unpartitioned: every partition
};

/// What a dataset is. Sources are files; tables are computed.
enum class Kind { DayCsv, DayLines, MonthCsv, Lookup, SqlTable, CommandTable };

/// One input of a table.
struct Input {
  int dataset = 0;  // index into World::datasets, always smaller than the reader's
  Mapping mapping = Mapping::Identity;
  int lo = 0;       // Shift: input[day - lo]; Window: input[day - lo .. day - hi]
  int hi = 0;
};

/// A source or a table of the generated pipeline.
struct Dataset {
  std::string name;
  Kind kind = Kind::DayCsv;
  bool partitioned = true;    // by `day: date` (MonthCsv: by `month: month`)
  std::vector<Input> inputs;  // tables only
  int variant = 0;            // which query or command transform: the semantic definition
  bool uses_var = false;      // the query or command reads the var `threshold`
  int cosmetic = 0;           // formatting revision of its rule file: no meaning
};

/// The kinds of edit the generator makes; each can be switched off.
enum class EditKind {
  Content,       // rewrite a source file with other rows
  Touch,         // rewrite a source file with the same bytes
  ReorderCsv,    // reorder the data rows of a csv file (same rows for SQL readers)
  ReorderLines,  // reorder the lines of a `lines` file (same rows, other bytes)
  Query,         // change what a query or command computes
  Cosmetic,      // reformat a query, add comments: no semantic change
  Var,           // change the value of the var `threshold`
  Delete,        // delete a source partition's file
  Add,           // add a source partition's file
  Count,
};
const char* edit_kind_name(EditKind k);

/// Per partition, what the reference knows of it in one state of the pipeline.
struct PartitionView {
  std::string definition;         // dataset's semantic definition ("" for sources)
  std::set<std::string> inputs;   // "dataset@partition" of every input partition it reads
  std::string rows;               // content as SQL sees it: sorted rows
  std::string bytes;              // content as a command sees it: the file's bytes
};

/// "dataset@partition" -> view, for every partition of a state.
using Snapshot = std::map<std::string, PartitionView>;

/// The random pipeline, its files, and its edits.
class World {
 public:
  explicit World(uint64_t seed);

  /// Every file of the workspace (rule files and data) as path -> content.
  const std::map<std::string, std::string>& files() const { return files_; }
  /// The --var arguments every build of the current state takes.
  std::string var_args() const;
  /// A one-line description of the pipeline's datasets, inputs and mappings.
  std::string describe() const;

  /// Makes one random edit of an enabled kind; returns what it did. `changed` gets the paths
  /// written (to rewrite) and `deleted` the paths removed.
  std::string edit(const std::set<EditKind>& enabled, std::vector<std::string>& changed,
                   std::vector<std::string>& deleted);

  /// The reference's view of the current state. `table_rows` holds, per "table@partition",
  /// the sorted rows of SQL tables; `command_bytes` the bytes of command outputs; both come
  /// from a from-scratch build of this state.
  Snapshot snapshot(const std::map<std::string, std::string>& table_rows,
                    const std::map<std::string, std::string>& command_bytes) const;

  /// The partitions (as "dataset@partition") an incremental build from state `before` to
  /// state `after` must run: new ones, changed definitions, changed input sets, and inputs
  /// whose content changed as the reader sees it.
  std::set<std::string> expected_runs(const Snapshot& before, const Snapshot& after) const;

  const std::vector<Dataset>& datasets() const { return datasets_; }
  /// The partitions of dataset `d` in the current state (partition texts).
  std::vector<std::string> partitions(int d) const;

 private:
  /// One edit of a source file (Content, Touch, Reorder*, Delete, Add); nullopt when it
  /// does not apply to `path`.
  std::optional<std::string> edit_file(EditKind kind, const std::string& path, std::vector<std::string>& changed,
                                       std::vector<std::string>& deleted);
  /// One edit of a table's rule file (Query, Cosmetic) or of the var (Var).
  std::optional<std::string> edit_rules(EditKind kind, std::vector<std::string>& changed);
  void generate();
  void add_table(bool command);
  void write_rules();
  std::string rule_text(const Dataset& ds) const;
  std::string sql_text(const Dataset& ds) const;
  std::string command_text(const Dataset& ds) const;
  std::string definition(const Dataset& ds) const;
  std::set<std::string> inputs_of(const Dataset& ds, const std::string& part) const;
  std::string random_csv(bool lookup);
  std::string random_lines();
  std::string source_path(const Dataset& ds, const std::string& part) const;
  std::vector<std::string> source_files(const Dataset& ds) const;
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  std::mt19937_64 rng_;
  std::vector<Dataset> datasets_;
  std::map<std::string, std::string> files_;
  int threshold_ = 1;
};

/// Partition text of day number `d` (0 is 2024-03-01).
std::string day_text(int d);

}  // namespace dbuild::difftest
