#include "model/template_functions.h"

namespace dbuild {
namespace {

struct Entry {
  const char* name;
  TemplateFn fn;
};
constexpr Entry kFunctions[] = {
    {"month", TemplateFn::Month},
    {"date", TemplateFn::Date},
    {"year", TemplateFn::Year},
    {"hour", TemplateFn::Hour},
};

}  // namespace

std::optional<TemplateFn> template_function(std::string_view name) {
  for (const Entry& e : kFunctions)
    if (name == e.name) return e.fn;
  return std::nullopt;
}

std::string template_function_names() {
  std::string out;
  for (const Entry& e : kFunctions) out += (out.empty() ? "" : ", ") + std::string(e.name);
  return out;
}

}  // namespace dbuild
