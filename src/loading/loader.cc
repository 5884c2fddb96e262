#include "loading/loader.h"

#include <fmt/format.h>

#include "loading/loader_formats.h"
#include "loading/loader_input.h"

namespace dbuild::exec {

namespace {

const char* expected_for(ColumnType t) {
  switch (t) {
    case ColumnType::Int: return "an integer";
    case ColumnType::Float: return "a number";
    case ColumnType::Bool: return "a boolean (true, false, 1 or 0)";
    default: return "text";
  }
}

std::string quoted(std::string_view text) { return format_value(Value(std::string(text))); }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// SQLite compares identifiers ignoring ASCII case.
bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

Loader::Loader(const LoadSpec& spec, std::string path) : spec_(spec), path_(std::move(path)) {}
Loader::~Loader() = default;

Result<std::unique_ptr<Loader>> Loader::open(const LoadSpec& spec, const std::string& path) {
  std::unique_ptr<Loader> loader(new Loader(spec, path));
  Status s = loader->init();
  if (!s.ok()) return s;
  return loader;
}

Status Loader::init() {
  const FormatKind kind = spec_.kind;
  if (spec_.delimiter == 0) spec_.delimiter = kind == FormatKind::Tsv ? '\t' : ',';
  char d = spec_.delimiter;
  if (kind == FormatKind::Csv && (d == '"' || d == '\n' || d == '\r')) {
    return Status::Error(fmt::format("{}: the CSV delimiter cannot be a quote or a line break", path_));
  }
  if (kind == FormatKind::Tsv && (d == '\n' || d == '\r')) {
    return Status::Error(fmt::format("{}: the TSV delimiter cannot be a line break", path_));
  }
  Result<std::unique_ptr<LoaderInput>> in = LoaderInput::open(path_);
  if (!in.ok()) return in.status();
  input_ = std::move(*in);
  Status s = init_parser();
  if (!s.ok()) return s;
  return init_formats();
}

Status Loader::init_parser() {
  columns_ = spec_.columns;
  switch (spec_.kind) {
    case FormatKind::Csv:
    case FormatKind::Tsv:
      parser_ = spec_.kind == FormatKind::Csv ? make_csv_parser(input_.get(), spec_.delimiter)
                                              : make_tsv_parser(input_.get(), spec_.delimiter);
      return spec_.header ? init_header() : init_columns_without_header();
    case FormatKind::Lines:
      if (columns_.size() > 1) {
        return Status::Error(fmt::format("{}: the lines format has one column, not {}", path_,
                                         columns_.size()));
      }
      if (columns_.empty()) columns_.push_back({"line", ColumnType::String, ""});
      parser_ = make_lines_parser(input_.get());
      return Status::Ok();
    case FormatKind::JsonLines:
      if (columns_.empty()) return Status::Error(fmt::format("{}: JSON lines need columns", path_));
      parser_ = make_json_parser(input_.get(), columns_);
      return Status::Ok();
    case FormatKind::Regex: {
      if (columns_.empty()) return Status::Error(fmt::format("{}: a regex needs columns", path_));
      auto p = make_regex_parser(input_.get(), spec_.pattern, columns_.size());
      if (!p.ok()) return Status::Error(fmt::format("{}: {}", path_, p.status().message()));
      parser_ = std::move(*p);
      return Status::Ok();
    }
  }
  return Status::Error("unknown format");
}

Status Loader::init_formats() {
  formats_.resize(columns_.size());
  for (size_t i = 0; i < columns_.size(); ++i) {
    const ColumnSpec& c = columns_[i];
    for (size_t j = 0; j < i; ++j) {
      if (same_name(columns_[j].name, c.name)) {
        return Status::Error(fmt::format("{}: column `{}` is declared twice", path_, c.name));
      }
    }
    if (c.type != ColumnType::Date && c.type != ColumnType::Timestamp) continue;
    Result<TimeFormat> f = TimeFormat::compile(c.parse_format);
    if (!f.ok()) {
      return Status::Error(fmt::format("{}: column `{}`: {}", path_, c.name, f.status().message()));
    }
    formats_[i] = std::move(*f);
  }
  return Status::Ok();
}

Status Loader::init_columns_without_header() {
  if (columns_.empty()) {
    return Status::Error(fmt::format("{}: without a header, the columns must be declared", path_));
  }
  for (size_t i = 0; i < columns_.size(); ++i) field_of_column_.push_back(i);
  expected_fields_ = columns_.size();
  return Status::Ok();
}

Status Loader::init_header() {
  Malformed bad;
  Result<ParseOutcome> r = parser_->next(&fields_, &bad);
  if (!r.ok()) return r.status();
  if (*r == ParseOutcome::Malformed) {
    return Status::Error(fmt::format("{}:{}:{}: {} (in the header)", path_, bad.line, bad.col,
                                     bad.message));
  }
  if (*r == ParseOutcome::End) {
    if (columns_.empty()) {
      return Status::Error(fmt::format("{}: the file is empty, so no header names its columns", path_));
    }
    return init_columns_without_header();  // no rows will follow
  }
  std::vector<std::string> header;
  for (const RawField& f : fields_) header.emplace_back(f.text);
  return map_header(header, fields_.empty() ? 1 : fields_[0].line);
}

Status Loader::map_header(const std::vector<std::string>& header, uint64_t line) {
  expected_fields_ = header.size();
  expected_why_ = " (as in the header)";
  if (columns_.empty()) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i].empty()) {
        return Status::Error(fmt::format("{}:{}: header field {} is empty; name every column", path_,
                                         line, i + 1));
      }
      columns_.push_back({header[i], ColumnType::String, ""});
      field_of_column_.push_back(i);
    }
    return Status::Ok();
  }
  for (const ColumnSpec& c : columns_) {
    size_t i = 0;
    while (i < header.size() && header[i] != c.name) ++i;
    if (i == header.size()) {
      return Status::Error(fmt::format("{}:{}: column `{}` is not in the header: {}", path_, line,
                                       c.name, fmt::join(header, std::string(1, spec_.delimiter))));
    }
    field_of_column_.push_back(i);
  }
  return Status::Ok();
}

Result<bool> Loader::next(std::vector<Value>* row) {
  row->resize(columns_.size());
  for (;;) {
    Malformed bad;
    Result<ParseOutcome> r = parser_->next(&fields_, &bad);
    if (!r.ok()) return r.status();
    if (*r == ParseOutcome::End) {
      stats_.bytes = input_->bytes_read();
      return false;
    }
    if (*r == ParseOutcome::Record && convert(row, &bad.line, &bad.col, &bad.message)) {
      ++stats_.rows;
      return true;
    }
    Status error;
    if (!skip_or_fail(bad.line, bad.col, bad.message, &error)) return error;
  }
}

bool Loader::skip_or_fail(uint64_t line, uint32_t col, const std::string& message, Status* error) {
  if (spec_.skip_malformed) {
    ++stats_.skipped_malformed;
    if (stats_.skipped_lines_sample.size() < kSkippedSample) {
      stats_.skipped_lines_sample.push_back(line);
    }
    return true;
  }
  *error = Status::Error(fmt::format("{}:{}:{}: {}", path_, line, col, message));
  return false;
}

bool Loader::check_field_count(uint64_t* line, uint32_t* col, std::string* message) const {
  size_t n = fields_.size();
  if (n == expected_fields_) return true;
  *message = fmt::format("expected {} fields{}, found {}", expected_fields_, expected_why_, n);
  const RawField& at = n > expected_fields_ ? fields_[expected_fields_] : fields_.back();
  *line = at.line;
  *col = n > expected_fields_ ? at.col : at.col + static_cast<uint32_t>(at.text.size());
  return false;
}

bool Loader::convert(std::vector<Value>* row, uint64_t* line, uint32_t* col, std::string* message) {
  bool delimited = spec_.kind == FormatKind::Csv || spec_.kind == FormatKind::Tsv;
  if (delimited && !check_field_count(line, col, message)) return false;
  for (size_t i = 0; i < columns_.size(); ++i) {
    const RawField& f = fields_[delimited ? field_of_column_[i] : i];
    if (!convert_field(i, f, &(*row)[i], message)) {
      *line = f.line;
      *col = f.col;
      return false;
    }
  }
  return true;
}

bool Loader::convert_field(size_t column, const RawField& f, Value* out, std::string* message) const {
  const ColumnSpec& c = columns_[column];
  if (f.null || (!f.quoted && !spec_.null_token.empty() && f.text == spec_.null_token) ||
      (f.text.empty() && c.type != ColumnType::String)) {
    *out = std::monostate{};
    return true;
  }
  bool ok = true;
  switch (c.type) {
    case ColumnType::String: set_text(*out, f.text); return true;
    case ColumnType::Int: ok = parse_int64(f.text, &out->emplace<int64_t>()); break;
    case ColumnType::Float: ok = parse_double(f.text, &out->emplace<double>()); break;
    case ColumnType::Bool: {
      bool b = false;
      ok = parse_bool(f.text, &b);
      *out = int64_t{b ? 1 : 0};
      break;
    }
    case ColumnType::Date:
    case ColumnType::Timestamp: {
      if (!std::holds_alternative<std::string>(*out)) out->emplace<std::string>();
      std::string* s = &std::get<std::string>(*out);
      bool date = c.type == ColumnType::Date;
      ok = date ? formats_[column].to_date(f.text, s) : formats_[column].to_timestamp(f.text, s);
      if (!ok) *message = fmt::format("expected {} in column `{}`, found {}",
                                      formats_[column].describe(date), c.name, quoted(f.text));
      return ok;
    }
  }
  if (!ok) *message = fmt::format("expected {} in column `{}`, found {}", expected_for(c.type),
                                  c.name, quoted(f.text));
  return ok;
}

}  // namespace dbuild::exec
