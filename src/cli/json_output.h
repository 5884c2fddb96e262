#pragma once
/// JSON for machines (docs/json.md): diagnostics as objects, and the error object a `--json`
/// command prints on stdout when it fails before printing its normal object.
///
/// A failing command keeps printing its message to stderr as it always did, and calls
/// json_error() once, right before it returns its exit code; when the command was given
/// --json (enable_json_errors()), that prints {"error": {"message", "code", "diagnostics"}}.
/// Only the first call prints, so a command's stdout holds exactly one JSON object.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/diagnostic.h"

namespace dbuild {

/// Error codes of the error object; docs/json.md lists what each means.
namespace error_code {
inline constexpr const char* kUsage = "usage";
inline constexpr const char* kNoDirectory = "no_directory";
inline constexpr const char* kNoWorkspace = "no_workspace";
inline constexpr const char* kRulesError = "rules_error";
inline constexpr const char* kNotWritable = "not_writable";
inline constexpr const char* kLocked = "locked";
inline constexpr const char* kStateError = "state_error";
inline constexpr const char* kWarehouseError = "warehouse_error";
inline constexpr const char* kGraphError = "graph_error";
inline constexpr const char* kExecutorError = "executor_error";
inline constexpr const char* kError = "error";
}  // namespace error_code

/// One diagnostic: file, line, column (code points), end_line, end_column, utf16_column,
/// utf16_end_column when it has a location; severity, message, hint when it has one.
nlohmann::json diagnostic_json(const Diagnostic& d, const SourceFiles& files);
nlohmann::json diagnostics_json(const std::vector<Diagnostic>& ds, const SourceFiles& files);

/// Prints JSON as every command does: one line, bytes that are not UTF-8 replaced.
void print_json(const nlohmann::json& j);

/// From now on, json_error() prints (run_cli calls it for a command given --json).
void enable_json_errors(bool on);
/// Prints the error object on stdout if enabled and none was printed yet.
void json_error(const std::string& code, const std::string& message,
                nlohmann::json diagnostics = nlohmann::json::array());
/// Whether argv asks for JSON (--json, --format json, --format=json): used when the command
/// line itself cannot be parsed.
bool argv_wants_json(int argc, char** argv);

}  // namespace dbuild
