#include "exec/engine_lister.h"

#include <unistd.h>

#include <fmt/format.h>

namespace dbuild::exec {

Result<std::vector<std::vector<std::string>>> EngineLister::list_table_partitions(const Dataset& ds) {
  if (!engine_) {
    if (::access(warehouse_.c_str(), F_OK) != 0)
      return Status::Error(fmt::format("source `{}` reads table `{}`, but there is no warehouse at {} yet",
                                       ds.name, ds.source_table, warehouse_));
    auto e = SqliteEngine::open(warehouse_);
    if (!e.ok()) return e.status();
    engine_ = std::move(*e);
  }
  auto exists = engine_->table_exists(ds.source_table);
  if (!exists.ok()) return exists.status();
  if (!*exists)
    return Status::Error(fmt::format("source `{}` reads table `{}`, which is not in the warehouse",
                                     ds.name, ds.source_table));
  std::vector<std::string> columns;
  for (const auto& k : ds.keys) columns.push_back(k.name);
  std::vector<std::vector<std::string>> out;
  if (columns.empty()) {
    out.emplace_back();
    return out;
  }
  auto rows = engine_->list_partitions(ds.source_table, columns);
  if (!rows.ok()) return rows.status();
  for (const auto& row : *rows) {
    std::vector<std::string> texts;
    for (const auto& v : row) {
      if (const auto* s = std::get_if<std::string>(&v)) texts.push_back(*s);
      else if (const auto* i = std::get_if<int64_t>(&v)) texts.push_back(std::to_string(*i));
      else texts.push_back(format_value(v));
    }
    out.push_back(std::move(texts));
  }
  return out;
}

}  // namespace dbuild::exec
