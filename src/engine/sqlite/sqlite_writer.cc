#include "engine/sqlite/sqlite_writer.h"

#include <algorithm>

#include <fmt/format.h>

namespace dbuild::exec {

namespace {

int storage_class(const Value& v) {
  if (is_null(v)) return SQLITE_NULL;
  if (std::holds_alternative<int64_t>(v)) return SQLITE_INTEGER;
  if (std::holds_alternative<double>(v)) return SQLITE_FLOAT;
  return SQLITE_TEXT;
}

void encode_value(RowEncoder& enc, const Value& v, std::string_view name) {
  if (auto* i = std::get_if<int64_t>(&v)) return enc.add_int(name, *i);
  if (auto* d = std::get_if<double>(&v)) return enc.add_real(name, *d);
  if (auto* s = std::get_if<std::string>(&v)) return enc.add_text(name, *s);
}

}  // namespace

PartitionWriter::PartitionWriter(sqlite3* db, std::string table, std::vector<KeyColumn> keys)
    : db_(db), table_(std::move(table)), keys_(std::move(keys)) {}

Result<std::unique_ptr<PartitionWriter>> PartitionWriter::start(
    sqlite3* db, const std::string& table, const std::vector<KeyColumn>& keys,
    const std::vector<OutputColumn>& columns) {
  std::unique_ptr<PartitionWriter> w(new PartitionWriter(db, table, keys));
  Status s = ensure_table(db, table, keys, columns);
  if (s.ok()) s = w->map_columns(columns);
  if (!s.ok()) return s;
  Result<Stmt> del = Stmt::prepare(
      db, fmt::format("DELETE FROM main.{} WHERE {}", quote_ident(table), key_predicate(keys, 1)));
  if (!del.ok()) return del.status();
  s = bind_keys(*del, keys, 1);
  if (s.ok()) s = del->run();
  if (s.ok()) s = w->prepare_insert(columns);
  if (!s.ok()) return s;
  return w;
}

// Finds each output column in the table: its spelling, affinity and position.
Status PartitionWriter::map_columns(const std::vector<OutputColumn>& columns) {
  Result<std::vector<TableColumn>> have = read_columns(db_, table_);
  if (!have.ok()) return have.status();
  std::vector<size_t> position;
  for (const OutputColumn& c : columns) {
    auto it = std::find_if(have->begin(), have->end(),
                           [&](const TableColumn& t) { return same_ident(t.name, c.name); });
    if (it == have->end()) return Status::Error(fmt::format("column `{}` missing after ALTER", c.name));
    names_.push_back(it->name);
    affinity_.push_back(affinity_of(it->decl_type));
    position.push_back(static_cast<size_t>(it - have->begin()));
  }
  table_order_.resize(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) table_order_[i] = i;
  std::sort(table_order_.begin(), table_order_.end(),
            [&](size_t a, size_t b) { return position[a] < position[b]; });
  return Status::Ok();
}

Status PartitionWriter::prepare_insert(const std::vector<OutputColumn>& columns) {
  std::vector<std::string> names, params;
  for (const KeyColumn& k : keys_) names.push_back(quote_ident(k.name));
  for (const OutputColumn& c : columns) names.push_back(quote_ident(c.name));
  for (size_t i = 1; i <= names.size(); ++i) params.push_back(fmt::format("?{}", i));
  std::string sql = names.empty()
                        ? fmt::format("INSERT INTO main.{} DEFAULT VALUES", quote_ident(table_))
                        : fmt::format("INSERT INTO main.{} ({}) VALUES ({})", quote_ident(table_),
                                      fmt::join(names, ", "), fmt::join(params, ", "));
  Result<Stmt> st = Stmt::prepare(db_, sql);
  if (!st.ok()) return st.status();
  insert_ = std::move(*st);
  first_value_param_ = static_cast<int>(keys_.size()) + 1;
  return bind_keys(insert_, keys_, 1);
}

Status PartitionWriter::insert_bound() {
  int rc = sqlite3_step(insert_.get());
  sqlite3_reset(insert_.get());
  if (rc == SQLITE_DONE) return Status::Ok();
  return sqlite_error(db_, fmt::format("sqlite: inserting into `{}`", table_));
}

Status PartitionWriter::add(const std::vector<Value>& row) {
  for (size_t i = 0; i < row.size(); ++i) {
    Status s = insert_.bind(first_value_param_ + static_cast<int>(i), row[i], /*copy=*/false);
    if (!s.ok()) return s;
    if (!stored_unchanged(affinity_[i], storage_class(row[i]))) rehash_ = true;
  }
  Status s = insert_bound();
  if (s.ok()) hash_values(row);
  return s;
}

Status PartitionWriter::add(sqlite3_stmt* select) {
  for (size_t i = 0; i < names_.size(); ++i) {
    int col = static_cast<int>(i);
    if (!stored_unchanged(affinity_[i], sqlite3_column_type(select, col))) rehash_ = true;
    if (sqlite3_bind_value(insert_.get(), first_value_param_ + col,
                           sqlite3_column_value(select, col)) != SQLITE_OK) {
      return sqlite_error(db_, "sqlite: binding a query result");
    }
  }
  Status s = insert_bound();
  if (s.ok()) hash_select(select);
  return s;
}

void PartitionWriter::hash_values(const std::vector<Value>& row) {
  if (rehash_) return;
  enc_.clear();
  for (size_t i : table_order_) encode_value(enc_, row[i], names_[i]);
  rows_.add(enc_.hash());
}

void PartitionWriter::hash_select(sqlite3_stmt* select) {
  if (rehash_) return;
  enc_.clear();
  for (size_t i : table_order_) encode_column(enc_, select, static_cast<int>(i), names_[i]);
  rows_.add(enc_.hash());
}

Result<WriteResult> PartitionWriter::finish() {
  if (rehash_) return fingerprint_stored(db_, table_, keys_);
  WriteResult r;
  r.rows = static_cast<int64_t>(rows_.rows());
  r.fingerprint = rows_.finish();
  return r;
}

}  // namespace dbuild::exec
