#include "loader_fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "loading/loader_formats.h"
#include "loading/loader_input.h"

namespace dbuild::fuzz {
namespace {

using exec::ColumnType;
using exec::FormatKind;

constexpr size_t kMaxColumns = 8;
constexpr size_t kTinyChunk = 3;
constexpr size_t kLargeChunk = 64 << 10;  // larger than any input the fuzzer makes

/// Takes the first line off *rest.
std::string_view take_line(std::string_view* rest) {
  size_t nl = rest->find('\n');
  std::string_view line = rest->substr(0, nl);
  rest->remove_prefix(nl == std::string_view::npos ? rest->size() : nl + 1);
  return line;
}

void add_column(exec::LoadSpec* spec, ColumnType type) {
  if (spec->columns.size() == kMaxColumns) return;
  spec->columns.push_back({std::string(1, static_cast<char>('a' + spec->columns.size())), type, ""});
}

exec::LoadSpec parse_spec(FormatKind kind, std::string_view line) {
  exec::LoadSpec spec;
  spec.kind = kind;
  spec.header = false;
  std::string parse_format;
  for (size_t i = 0; i < line.size(); ++i) {
    switch (line[i]) {
      case 'h': spec.header = true; break;
      case 's': spec.skip_malformed = true; break;
      case 'n': spec.null_token = "-"; break;
      case 'N': spec.null_token = "NULL"; break;
      case 'S': add_column(&spec, ColumnType::String); break;
      case 'I': add_column(&spec, ColumnType::Int); break;
      case 'F': add_column(&spec, ColumnType::Float); break;
      case 'B': add_column(&spec, ColumnType::Bool); break;
      case 'D': add_column(&spec, ColumnType::Date); break;
      case 'T': add_column(&spec, ColumnType::Timestamp); break;
      case 'd':
        if (i + 1 < line.size()) spec.delimiter = line[++i];
        break;
      case '=': parse_format = std::string(line.substr(i + 1)); i = line.size(); break;
      default: break;
    }
  }
  for (auto& c : spec.columns)
    if (c.type == ColumnType::Date || c.type == ColumnType::Timestamp) c.parse_format = parse_format;
  return spec;
}

/// An anonymous in-memory file holding the current input, opened again by path for each read.
class MemFile {
 public:
  MemFile() : fd_(memfd_create("dbuild-fuzz", 0)), path_(fmt::format("/proc/self/fd/{}", fd_)) {
    if (fd_ < 0) std::abort();
  }
  void write(std::string_view bytes) {
    if (ftruncate(fd_, 0) != 0) std::abort();
    if (pwrite(fd_, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) std::abort();
  }
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

/// Loads the file as a build does: typed rows until the end or the first error.
void load_rows(const exec::LoadSpec& spec, const std::string& path) {
  auto loader = exec::Loader::open(spec, path);
  if (!loader.ok()) return;
  std::vector<exec::Value> row;
  for (;;) {
    Result<bool> more = (*loader)->next(&row);
    if (!more.ok() || !*more) return;
    if (row.size() != (*loader)->columns().size()) std::abort();
  }
}

/// The bare record parser for the spec, or null when the spec is one Loader rejects.
std::unique_ptr<exec::RecordParser> make_parser(const exec::LoadSpec& spec, exec::LoaderInput* in) {
  char d = spec.delimiter;
  switch (spec.kind) {
    case FormatKind::Csv:
      if (d == '"' || d == '\n' || d == '\r') return nullptr;
      return exec::make_csv_parser(in, d ? d : ',');
    case FormatKind::Tsv:
      if (d == '\n' || d == '\r') return nullptr;
      return exec::make_tsv_parser(in, d ? d : '\t');
    case FormatKind::Lines: return exec::make_lines_parser(in);
    case FormatKind::JsonLines:
      return spec.columns.empty() ? nullptr : exec::make_json_parser(in, spec.columns);
    case FormatKind::Regex: {
      if (spec.columns.empty()) return nullptr;
      auto p = exec::make_regex_parser(in, spec.pattern, spec.columns.size());
      return p.ok() ? std::move(*p) : nullptr;
    }
  }
  return nullptr;
}

/// Every record and malformed report of a bare parse, as text (empty when not parseable).
std::string parse_trace(const exec::LoadSpec& spec, const std::string& path, size_t chunk) {
  auto in = exec::LoaderInput::open(path, chunk);
  if (!in.ok()) std::abort();
  std::unique_ptr<exec::RecordParser> parser = make_parser(spec, in->get());
  if (!parser) return "";
  std::string trace;
  std::vector<exec::RawField> fields;
  for (;;) {
    exec::Malformed bad;
    Result<exec::ParseOutcome> r = parser->next(&fields, &bad);
    if (!r.ok()) return trace + "error: " + r.status().message();
    if (*r == exec::ParseOutcome::End) return trace + "end";
    if (*r == exec::ParseOutcome::Malformed) {
      trace += fmt::format("malformed {}:{}: {}\n", bad.line, bad.col, bad.message);
      continue;
    }
    trace += "record";
    for (const exec::RawField& f : fields)
      trace += fmt::format(" [{}:{} {}{}{}]", f.line, f.col, f.null ? "null " : "",
                           f.quoted ? "quoted " : "", f.text);
    trace += '\n';
  }
}

}  // namespace

int fuzz_loader(FormatKind kind, const uint8_t* data, size_t size) {
  static MemFile* file = new MemFile;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  exec::LoadSpec spec = parse_spec(kind, take_line(&rest));
  if (kind == FormatKind::Regex) spec.pattern = std::string(take_line(&rest));
  file->write(rest);
  load_rows(spec, file->path());
  std::string large = parse_trace(spec, file->path(), kLargeChunk);
  std::string tiny = parse_trace(spec, file->path(), kTinyChunk);
  if (large != tiny) {
    fmt::print(stderr, "parses differ with a {}-byte buffer:\n--- large buffer\n{}\n--- tiny buffer\n{}\n",
               kTinyChunk, large, tiny);
    std::abort();
  }
  return 0;
}

}  // namespace dbuild::fuzz
