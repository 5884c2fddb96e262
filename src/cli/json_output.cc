#include "cli/json_output.h"

#include <string_view>

#include <fmt/format.h>

namespace dbuild {
namespace {

bool g_enabled = false;
bool g_printed = false;

}  // namespace

nlohmann::json diagnostic_json(const Diagnostic& d, const SourceFiles& files) {
  nlohmann::json j = nlohmann::json::object();
  if (d.span.file != kNoFile) {
    TextPosition begin = files.position(d.span.file, d.span.begin);
    TextPosition end = files.position(d.span.file, std::max(d.span.begin, d.span.end));
    j["file"] = files.path(d.span.file);
    j["line"] = begin.line;
    j["column"] = begin.column;
    j["end_line"] = end.line;
    j["end_column"] = end.column;
    j["utf16_column"] = begin.utf16_column;
    j["utf16_end_column"] = end.utf16_column;
  }
  j["severity"] = d.severity == Severity::Error ? "error" : "warning";
  j["message"] = d.message;
  if (!d.hint.empty()) j["hint"] = d.hint;
  return j;
}

nlohmann::json diagnostics_json(const std::vector<Diagnostic>& ds, const SourceFiles& files) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : ds) out.push_back(diagnostic_json(d, files));
  return out;
}

void print_json(const nlohmann::json& j) {
  // Messages quote rule files and engine errors, which may hold any bytes.
  fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void enable_json_errors(bool on) { g_enabled = on; }

void json_error(const std::string& code, const std::string& message, nlohmann::json diagnostics) {
  if (!g_enabled || g_printed) return;
  g_printed = true;
  print_json({{"error", {{"message", message}, {"code", code}, {"diagnostics", std::move(diagnostics)}}}});
  std::fflush(stdout);
}

bool argv_wants_json(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--json" || a == "--format=json") return true;
    if (a == "--format" && i + 1 < argc && std::string_view(argv[i + 1]) == "json") return true;
  }
  return false;
}

}  // namespace dbuild
