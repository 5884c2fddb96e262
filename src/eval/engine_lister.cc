#include "eval/engine_lister.h"

#include <unistd.h>

#include <fmt/format.h>


namespace dbuild::exec {

Result<ListedPartitions> EngineLister::list_table_partitions(const Dataset& ds) {
  auto engine = engines_.of(ds);
  if (!engine.ok()) return engine.status();
  if (!(*engine)->may_have_data())
    return Status::Error(fmt::format("source `{}` reads table `{}`, but there is nothing in {} yet", ds.name,
                                     ds.source_table, engines_.where(model_, ds)));
  auto session = sessions_.of(ds);
  if (!session.ok()) return session.status();
  auto exists = (*session)->table_exists(ds.source_table);
  if (!exists.ok()) return exists.status();
  if (!*exists)
    return Status::Error(fmt::format("source `{}` reads table `{}`, which is not in {}", ds.name,
                                     ds.source_table, engines_.where(model_, ds)));
  std::vector<std::string> columns;
  for (const auto& k : ds.keys) columns.push_back(k.name);
  ListedPartitions out;
  if (columns.empty()) {
    out.tuples.emplace_back();
    return out;
  }
  auto rows = (*session)->list_partitions(ds.source_table, columns);
  if (!rows.ok()) return rows.status();
  std::vector<uint8_t> null_in(columns.size(), 0);
  for (const auto& row : *rows) {
    std::vector<std::string> texts;
    bool has_null = false;
    for (size_t k = 0; k < row.size(); ++k) {
      const Value& v = row[k];
      if (is_null(v)) has_null = (null_in[k] = 1);
      else if (const auto* s = std::get_if<std::string>(&v)) texts.push_back(*s);
      else if (const auto* i = std::get_if<int64_t>(&v)) texts.push_back(std::to_string(*i));
      else texts.push_back(format_value(v));
    }
    if (!has_null) out.tuples.push_back(std::move(texts));
  }
  // A NULL key names no partition (no query could select its rows): say so, per column.
  for (size_t k = 0; k < columns.size(); ++k) {
    if (!null_in[k]) continue;
    auto n = (*session)->count_nulls(ds.source_table, columns[k]);
    if (!n.ok()) return n.status();
    out.warnings.push_back(fmt::format(
        "source `{}`: {} row{} of table `{}` {} NULL in key column `{}`; they belong to no partition and are "
        "skipped (give them a value, or filter them out in a view)",
        ds.name, *n, *n == 1 ? "" : "s", ds.source_table, *n == 1 ? "has" : "have", columns[k]));
  }
  return out;
}

}  // namespace dbuild::exec
