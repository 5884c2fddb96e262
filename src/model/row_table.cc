#include "model/row_table.h"

#include <fmt/format.h>

namespace dbuild {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> split_cells(std::string_view line, char sep) {
  std::vector<std::string> cells;
  // Leading and trailing pipes are optional: `| a | b |`.
  if (sep == '|') {
    line = trim(line);
    if (!line.empty() && line.front() == '|') line.remove_prefix(1);
    if (!line.empty() && line.back() == '|') line.remove_suffix(1);
  }
  size_t pos = 0;
  for (;;) {
    size_t next = line.find(sep, pos);
    cells.emplace_back(trim(line.substr(pos, next == std::string_view::npos ? next : next - pos)));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return cells;
}

std::optional<RowTable> parse_table(std::string_view text, const TextOrigin& origin,
                                    Diagnostics& diags, char sep) {
  RowTable table;
  table.span = origin.at(0, static_cast<uint32_t>(text.size()));
  bool ok = true;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    uint32_t line_offset = static_cast<uint32_t>(pos);
    pos = end + 1;
    if (trim(line).empty()) {
      if (nl == std::string_view::npos) break;
      continue;
    }
    // A separator line such as |----|----| is skipped.
    if (trim(line).find_first_not_of("|-: ") == std::string_view::npos) continue;
    auto cells = split_cells(line, sep);
    if (table.columns.empty()) {
      table.columns = std::move(cells);
    } else if (cells.size() != table.columns.size()) {
      size_t lead = line.find_first_not_of(" \t");
      diags.error(origin.at(line_offset + static_cast<uint32_t>(lead), static_cast<uint32_t>(trim(line).size())),
                  fmt::format("this row has {} cells but the header has {}", cells.size(),
                              table.columns.size()),
                  sep == '|' ? "separate cells with `|`, one per column" : "one value per column");
      ok = false;
    } else {
      table.rows.push_back(std::move(cells));
    }
    if (nl == std::string_view::npos) break;
  }
  if (table.columns.empty()) {
    diags.error(table.span, "the rows have no header line", "start with a header: col | col");
    return std::nullopt;
  }
  if (!ok) return std::nullopt;
  return table;
}

}  // namespace

std::optional<RowTable> parse_pipe_table(std::string_view text, const TextOrigin& origin,
                                         Diagnostics& diags) {
  return parse_table(text, origin, diags, '|');
}

std::optional<RowTable> parse_csv_table(std::string_view text, const TextOrigin& origin,
                                        Diagnostics& diags) {
  return parse_table(text, origin, diags, ',');
}

}  // namespace dbuild
