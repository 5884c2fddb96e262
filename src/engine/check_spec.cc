#include "engine/check_spec.h"

#include <fmt/format.h>

namespace dbuild::exec {

const char* compare_op_text(CompareOp op) {
  switch (op) {
    case CompareOp::Eq: return "=";
    case CompareOp::Ne: return "!=";
    case CompareOp::Lt: return "<";
    case CompareOp::Le: return "<=";
    case CompareOp::Gt: return ">";
    case CompareOp::Ge: return ">=";
  }
  return "?";
}

bool compare(int64_t a, CompareOp op, int64_t b) {
  switch (op) {
    case CompareOp::Eq: return a == b;
    case CompareOp::Ne: return a != b;
    case CompareOp::Lt: return a < b;
    case CompareOp::Le: return a <= b;
    case CompareOp::Gt: return a > b;
    case CompareOp::Ge: return a >= b;
  }
  return false;
}

std::string check_label(const CheckSpec& c) {
  if (!c.name.empty()) return c.name;
  std::string cols = fmt::format("{}", fmt::join(c.columns, ", "));
  switch (c.kind) {
    case CheckKind::NotNull: return fmt::format("not_null({})", cols);
    case CheckKind::Unique: return fmt::format("unique({})", cols);
    case CheckKind::AcceptedValues: return fmt::format("accepted_values({})", cols);
    case CheckKind::RowCount: return fmt::format("row_count {} {}", compare_op_text(c.op), c.n);
    case CheckKind::CustomSql: return "custom SQL check";
  }
  return "check";
}

void CheckReport::add(const CheckSpec& check, const Result<std::string>& outcome) {
  if (!outcome.ok()) {
    failures_.push_back(fmt::format("check {} could not run: {}", check_label(check), outcome.status().message()));
  } else if (!outcome->empty()) {
    failures_.push_back(fmt::format("check {} failed: {}", check_label(check), *outcome));
  }
}

Status CheckReport::status() const {
  if (failures_.empty()) return Status::Ok();
  return Status::Error(fmt::format("{}", fmt::join(failures_, "\n")));
}

}  // namespace dbuild::exec
