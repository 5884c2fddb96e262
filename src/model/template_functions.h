#pragma once
/// The functions a `{{ }}` template may call: one list, used by `dbuild check` (the model
/// accepts exactly these names) and by the build (exec/action_specs evaluates each of them).
#include <optional>
#include <string>
#include <string_view>

namespace dbuild {

/// A template function. Each takes one date, month or hour key value.
enum class TemplateFn {
  Month,  // month(d): the month holding a date, hour or month
  Date,   // date(h): the day holding an hour (a date or month: its first day)
  Year,   // year(d): the year, as a number
  Hour,   // hour(h): the hour of the day, 0-23, of an hour key
};

/// The function named `name`, or nothing.
std::optional<TemplateFn> template_function(std::string_view name);

/// "month, date, year, hour": for messages.
std::string template_function_names();

}  // namespace dbuild
