#pragma once
/// Internal to the loader: record parsers, one per file format. A parser splits the input into
/// records of raw text fields; the Loader maps them to columns and converts their types.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "loading/loader.h"
#include "loading/loader_input.h"

namespace dbuild::exec {

/// One field of a record, before typed conversion.
struct RawField {
  std::string_view text;  // valid until the parser's next call
  uint64_t line = 0;      // 1-based line where the field starts
  uint32_t col = 0;       // 1-based byte column where the field starts
  bool null = false;      // JSON null or missing key, or a regex group that did not match
  bool quoted = false;    // a quoted CSV field or a JSON string: never the null token
};

/// Where and why a record is malformed.
struct Malformed {
  uint64_t line = 0;
  uint32_t col = 0;
  std::string message;  // says what was expected
};

/// What RecordParser::next found.
enum class ParseOutcome { Record, End, Malformed };

/// Splits a file into records. Before a Malformed outcome the parser consumes the bad record (for
/// a CSV quoting error: up to the end of the line where the error is), so the caller may go on.
class RecordParser {
 public:
  virtual ~RecordParser() = default;
  /// Reads the next record into *fields. JsonLines and Regex produce one field per column, in
  /// column order; Csv, Tsv and Lines produce the fields of the line.
  virtual Result<ParseOutcome> next(std::vector<RawField>* fields, Malformed* bad) = 0;
};

/// REQUIRES: delimiter is not '"', '\n' or '\r'.
std::unique_ptr<RecordParser> make_csv_parser(LoaderInput* in, char delimiter);
std::unique_ptr<RecordParser> make_tsv_parser(LoaderInput* in, char delimiter);
std::unique_ptr<RecordParser> make_lines_parser(LoaderInput* in);
/// Picks the keys named like `columns`.
std::unique_ptr<RecordParser> make_json_parser(LoaderInput* in, const std::vector<ColumnSpec>& columns);
/// Fails on an invalid pattern or a group count other than columns.size().
Result<std::unique_ptr<RecordParser>> make_regex_parser(LoaderInput* in, const std::string& pattern,
                                                        size_t columns);

}  // namespace dbuild::exec
