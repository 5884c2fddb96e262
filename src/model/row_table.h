#pragma once
/// Fixture and expectation rows of tests: pipe tables written inline, or CSV files.
///
///   day        | url | hits
///   1995-07-01 | /a  | 4
///
/// The first non-empty line is the header; cells are trimmed; `NULL` is a null cell.
#include <optional>
#include <string_view>

#include "base/diagnostic.h"
#include "model/model.h"
#include "model/template_text.h"

namespace dbuild {

std::optional<RowTable> parse_pipe_table(std::string_view text, const TextOrigin& origin,
                                         Diagnostics& diags);
std::optional<RowTable> parse_csv_table(std::string_view text, const TextOrigin& origin,
                                        Diagnostics& diags);

}  // namespace dbuild
