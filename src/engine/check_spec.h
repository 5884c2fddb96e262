#pragma once
/// Data checks on a partition's new rows, as the model declares them; every engine runs them
/// inside the write of the partition, so a failing check leaves the previous rows.
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "values/value.h"

namespace dbuild::exec {

/// What a check asserts about the partition's rows.
enum class CheckKind {
  NotNull,         // no row has NULL in any of `columns`
  Unique,          // no two rows share the values of `columns` (rows with a NULL there are exempt)
  AcceptedValues,  // `columns[0]` is NULL or one of `values`
  RowCount,        // the row count compares to `n` by `op`
  CustomSql,       // `sql` returns the violating rows; none returned: passed
};

/// How RowCount compares the partition's row count with n.
enum class CompareOp { Eq, Ne, Lt, Le, Gt, Ge };

/// One check on a table's partition.
struct CheckSpec {
  CheckKind kind = CheckKind::NotNull;
  std::string name;                  // shown in messages; empty: derived ("not_null(a, b)")
  std::vector<std::string> columns;  // NotNull, Unique; AcceptedValues uses columns[0]
  std::vector<Value> values;         // AcceptedValues
  CompareOp op = CompareOp::Ge;      // RowCount
  int64_t n = 0;                     // RowCount
  /// CustomSql: a read-only SELECT. The output table's name resolves to the new partition's rows
  /// only; ?NNN parameters take the query's parameters.
  std::string sql;
};

/// The name used in messages: spec.name, or one derived from the kind and columns.
std::string check_label(const CheckSpec& check);

/// What the checks of one partition found, gathered into one error for the write to fail with:
/// one line per check that failed ("check unique(id) failed: ...") or could not run.
class CheckReport {
 public:
  /// `outcome`: "" when `check` passed, what it found when it failed, an error when it could
  /// not run.
  void add(const CheckSpec& check, const Result<std::string>& outcome);
  /// Ok when every check passed.
  Status status() const;

 private:
  std::vector<std::string> failures_;
};

/// "=", "!=", "<", ... for messages.
const char* compare_op_text(CompareOp op);

/// Whether `a op b` holds.
bool compare(int64_t a, CompareOp op, int64_t b);

}  // namespace dbuild::exec
