#pragma once
/// Loader: a streaming reader that turns a source file (CSV, TSV, JSON lines, plain lines, or lines
/// matched by a regular expression) into typed rows for the engine to insert.
///
/// The file is read in large chunks into one buffer and parsed in place (no per-line iostream);
/// memory stays bounded by the chunk size and the longest record.
///
/// Formats:
///   Csv       RFC 4180: fields may be quoted ("a,b", "say ""hi""", embedded newlines). A '"' inside
///             an unquoted field is an ordinary character.
///   Tsv       fields separated by the delimiter (tab by default), no quoting.
///   JsonLines one JSON object per line; a column takes the value of the key with its name (a missing
///             key or null gives NULL; nested objects/arrays give their JSON text). A line that is
///             not an object is malformed.
///   Lines     one row per line, one column (named `line` unless `columns` says otherwise).
///   Regex     one row per line; the RE2 `pattern` must match the whole line and has one capturing
///             group per column (a group that did not take part gives NULL).
/// Line handling, all formats: "\r\n" ends a line like "\n"; a UTF-8 byte order mark at the start is
/// ignored; empty lines after the last non-empty one are ignored. Other empty lines are skipped,
/// except by Lines, where they are rows with an empty `line`.
///
/// Typed conversion of a field (after the null token, which a quoted CSV field or a JSON string
/// never matches):
///   String as is · Int strict integer · Float finite number · Bool true/false/1/0 (stored 1/0)
///   Date → 'YYYY-MM-DD' · Timestamp → 'YYYY-MM-DD HH:MM:SS' in UTC (see value_time.h)
///   An empty field is NULL in every column type but String.
///
/// Errors read "path:line:col: message" (1-based; col counts bytes) and say what was expected. With
/// skip_malformed, malformed rows are counted and their first line numbers kept instead. (A CSV
/// quote that is never closed is only known at the end of the file, so the rest of the file is
/// read into memory before it is reported; the parse then resumes after the quote's line.)
/// A Loader is used by one thread at a time.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "values/value.h"
#include "values/value_time.h"

namespace dbuild::exec {

/// The type of a loaded column, which fixes its conversion and its SQLite affinity.
enum class ColumnType { String, Int, Float, Bool, Date, Timestamp };

/// One column of a source file.
struct ColumnSpec {
  std::string name;
  ColumnType type = ColumnType::String;
  std::string parse_format;  // Date/Timestamp: strptime-like (value_time.h); empty: ISO 8601
};

/// The layout of a source file.
enum class FormatKind { Csv, Tsv, JsonLines, Lines, Regex };

/// How to read one source file.
struct LoadSpec {
  FormatKind kind = FormatKind::Csv;
  /// Csv/Tsv: with a header, columns are matched to header names (all must be present; empty: every
  /// header column, as String). Without one, columns are the fields in order. Required for JsonLines
  /// and Regex; Lines allows at most one.
  std::vector<ColumnSpec> columns;
  char delimiter = 0;        // Csv/Tsv; 0: ',' for Csv, '\t' for Tsv
  bool header = true;        // Csv/Tsv: the first non-empty line names the columns
  std::string pattern;       // Regex: RE2 syntax, one capturing group per column
  std::string null_token;    // a field equal to it is NULL (e.g. "-"); empty: none
  bool skip_malformed = false;
};

/// What a load did besides producing rows.
struct LoadStats {
  uint64_t rows = 0;               // rows produced
  uint64_t skipped_malformed = 0;  // malformed rows skipped (skip_malformed only)
  std::vector<uint64_t> skipped_lines_sample;  // 1-based lines of the first kSkippedSample skips
  uint64_t bytes = 0;              // bytes read from the file
};
inline constexpr size_t kSkippedSample = 10;

class RecordParser;
class LoaderInput;
struct RawField;

/// Reads one file, row by row.
class Loader {
 public:
  /// Opens `path` and reads the header if the spec has one. Fails on an unreadable file, an invalid
  /// spec (bad pattern or date format, missing columns) or a header lacking a declared column.
  static Result<std::unique_ptr<Loader>> open(const LoadSpec& spec, const std::string& path);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// The columns every row has, in row order (the spec's, or those found in the header).
  const std::vector<ColumnSpec>& columns() const { return columns_; }

  /// Reads the next row into *row (resized to columns().size(); its buffers are reused). Returns
  /// false at the end of the file, an error for a malformed row unless skip_malformed.
  Result<bool> next(std::vector<Value>* row);

  const LoadStats& stats() const { return stats_; }

 private:
  Loader(const LoadSpec& spec, std::string path);
  Status init();
  Status init_parser();
  Status init_formats();
  Status init_header();
  Status map_header(const std::vector<std::string>& header, uint64_t line);
  Status init_columns_without_header();
  /// Converts the parser's raw fields into *row; false (with *where/*message set) on a bad field.
  bool convert(std::vector<Value>* row, uint64_t* line, uint32_t* col, std::string* message);
  bool check_field_count(uint64_t* line, uint32_t* col, std::string* message) const;
  bool convert_field(size_t column, const RawField& f, Value* out, std::string* message) const;
  /// Counts a malformed row (true: skip it) or builds the error (false).
  bool skip_or_fail(uint64_t line, uint32_t col, const std::string& message, Status* error);

  LoadSpec spec_;
  std::string path_;
  std::vector<ColumnSpec> columns_;
  std::vector<size_t> field_of_column_;  // Csv/Tsv: index of each column's field in a record
  size_t expected_fields_ = 0;           // Csv/Tsv: fields per record
  std::string expected_why_;             // Csv/Tsv: " (per the header)" or ""
  std::vector<TimeFormat> formats_;      // per column; used by Date/Timestamp columns
  std::unique_ptr<LoaderInput> input_;
  std::unique_ptr<RecordParser> parser_;
  std::vector<RawField> fields_;  // the current record, reused
  LoadStats stats_;
};

}  // namespace dbuild::exec
