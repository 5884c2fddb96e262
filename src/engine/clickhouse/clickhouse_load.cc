#include <cctype>
#include <cstdlib>

#include <fmt/format.h>

#include "engine/clickhouse/clickhouse_session.h"
#include "engine/clickhouse/clickhouse_write.h"

namespace dbuild::exec {

namespace {

constexpr size_t kBatchBytes = 4 << 20;  // rows are sent in INSERTs of about this size

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/// The civil date of a day number (inverse of days_from_civil).
void civil_from_days(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

/// dbuild's timestamp text ('YYYY-MM-DD HH:MM:SS[.fraction][±HH:MM]') as ClickHouse's DateTime
/// text: the local time as read, without its offset — what PostgreSQL's `timestamp` keeps, and
/// what dbuild's text form starts with, so a query sees the same wall time (and local day) on
/// every engine. ClickHouse 18.16's DateTime holds whole seconds: a non-zero fraction is an
/// error rather than silently dropped.
Result<std::string> to_datetime(const std::string& s) {
  int64_t y = std::atoll(s.substr(0, 4).c_str());
  int mo = std::atoi(s.substr(5, 2).c_str()), d = std::atoi(s.substr(8, 2).c_str());
  int h = std::atoi(s.substr(11, 2).c_str()), mi = std::atoi(s.substr(14, 2).c_str());
  int se = std::atoi(s.substr(17, 2).c_str());
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    size_t j = i + 1;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
      if (s[j] != '0') return Status::Error(fmt::format("{} has a fraction of a second, which ClickHouse's DateTime cannot hold", s));
      ++j;
    }
    i = j;
  }
  int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;  // any offset is dropped
  int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  int64_t rest = t - days * 86400;
  civil_from_days(days, &y, &mo, &d);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", y, mo, d, rest / 3600, rest / 60 % 60, rest % 60);
}

/// Makes a Date or Timestamp value storable: DateTime text in UTC, and years ClickHouse can hold
/// (1970 to 2105; other values would be stored wrong, silently).
Status to_storable(const ColumnSpec& c, Value& v, uint64_t row, const std::string& path) {
  if ((c.type != ColumnType::Date && c.type != ColumnType::Timestamp) ||
      !std::holds_alternative<std::string>(v)) {
    return Status::Ok();
  }
  std::string& s = std::get<std::string>(v);
  if (c.type == ColumnType::Timestamp && s.size() > 19) {
    Result<std::string> utc = to_datetime(s);
    if (!utc.ok()) return Status::Error(fmt::format("{}: row {}: column `{}`: {}", path, row, c.name, utc.status().message()));
    s = *utc;
  }
  int year = std::atoi(s.substr(0, 4).c_str());
  if (year >= 1970 && year <= 2105) return Status::Ok();
  return Status::Error(fmt::format("{}: row {}: column `{}`: {} is outside the years ClickHouse can "
                                   "store (1970 to 2105)",
                                   path, row, c.name, s));
}

/// Streams the loader's rows into the staging table in TabSeparated batches.
Status send_rows(ClickhouseSession& s, Loader& loader, const std::vector<KeyColumn>& keys,
                 const std::string& insert, const std::string& path) {
  std::string keys_tsv;
  for (const KeyColumn& k : keys) {
    tsv_append(&keys_tsv, k.value);
    keys_tsv += '\t';
  }
  std::string batch;
  std::vector<Value> row;
  uint64_t n = 0;
  for (;;) {
    Result<bool> more = loader.next(&row);
    if (!more.ok()) return more.status();
    if (*more) {
      ++n;
      batch += keys_tsv;
      for (size_t i = 0; i < row.size(); ++i) {
        if (Status st = to_storable(loader.columns()[i], row[i], n, path); !st.ok()) return st;
        if (i > 0) batch += '\t';
        tsv_append(&batch, row[i]);
      }
      batch += '\n';
    }
    if (!batch.empty() && (!*more || batch.size() >= kBatchBytes)) {
      if (Status st = s.shard(0).insert(insert, batch); !st.ok()) return st;
      batch.clear();
    }
    if (!*more) return Status::Ok();
  }
}

}  // namespace

Result<WriteResult> ClickhouseSession::load_partition(const std::string& table,
                                                      const std::vector<KeyColumn>& keys,
                                                      const LoadSpec& spec, const std::string& file_path) {
  if (Status st = ch_check_keys(keys); !st.ok()) return st;
  Result<std::unique_ptr<Loader>> loader = Loader::open(spec, file_path);
  if (!loader.ok()) return loader.status();
  std::vector<ChColumn> data;
  for (const ColumnSpec& c : (*loader)->columns()) data.push_back({c.name, ch_column_type(c.type)});
  if (Status st = ch_check_clash(data, keys); !st.ok()) {
    return Status::Error(fmt::format("{}: {}", file_path, st.message()));
  }
  if (Status st = ch_ensure_table(*this, table, keys, data); !st.ok()) return st;
  ChStaging stage(*this);
  if (Status st = stage.create(table); !st.ok()) return st;
  std::vector<std::string> names;
  for (const KeyColumn& k : keys) names.push_back(ch_ident(k.name));
  for (const ChColumn& c : data) names.push_back(ch_ident(c.name));
  std::string insert = fmt::format("INSERT INTO {} ({}) FORMAT TabSeparated",
                                   ch_table(config_.database, stage.distributed()), fmt::join(names, ", "));
  if (Status st = send_rows(*this, **loader, keys, insert, file_path); !st.ok()) return st;
  Result<WriteResult> result = stage.swap_into(table, keys);
  if (!result.ok()) return result;
  result->skipped_malformed = (*loader)->stats().skipped_malformed;
  result->skipped_lines_sample = (*loader)->stats().skipped_lines_sample;
  return result;
}

}  // namespace dbuild::exec
