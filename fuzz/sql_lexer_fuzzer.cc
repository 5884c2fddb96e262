// Fuzzes the SQL tokenizer and what is built on it (normalization, the tables a query reads):
// any text must tokenize without crashing, and every token and table reference must lie
// inside the text, in order.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "model/sql_lexer.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

void check_tokens(std::string_view sql) {
  uint64_t next = 0;  // the first offset the next token may start at
  for (const dbuild::SqlToken& t : dbuild::tokenize_sql(sql)) {
    require(!t.text.empty());
    require(t.offset >= next && t.offset + t.text.size() <= sql.size());
    require(t.text.data() == sql.data() + t.offset);
    next = t.offset + t.text.size();
    (void)dbuild::identifier_name(t);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view sql(reinterpret_cast<const char*>(data), size);
  check_tokens(sql);
  std::string normal = dbuild::normalize_sql(sql);
  require(dbuild::normalize_sql(sql) == normal);  // deterministic
  for (const dbuild::SqlTableRef& ref : dbuild::tables_read(sql)) {
    require(uint64_t{ref.offset} + ref.length <= sql.size());
  }
  return 0;
}
