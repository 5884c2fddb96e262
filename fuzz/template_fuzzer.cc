// Fuzzes `{{ }}` templates: splitting SQL or command text into literal parts and template
// expressions, rendering the diagnostics of malformed ones, and evaluating every parsed
// expression for one partition of a dataset keyed by every key type (as a build does).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/diagnostic.h"
#include "base/source_files.h"
#include "eval/action_specs.h"
#include "model/template_text.h"

namespace {

using dbuild::KeyType;

/// A dataset with one key of each type and a model with a numeric and a text variable.
struct Fixture {
  dbuild::Model model;
  dbuild::Dataset ds;
  dbuild::StringPool pool;
  std::vector<int64_t> tuple;

  Fixture() {
    model.vars["n"] = dbuild::VarDef{"n", "7", {}};
    model.vars["region"] = dbuild::VarDef{"region", "eu-west", {}};
    model.vars["unset"] = dbuild::VarDef{"unset", std::nullopt, {}};
    ds.name = "t";
    ds.keys = {{"day", KeyType::Date, {}},   {"hour", KeyType::Hour, {}},
               {"month", KeyType::Month, {}}, {"shard", KeyType::Int, {}},
               {"site", KeyType::String, {}}};
    // 1995-07-14, its 13th hour, its month, shard 3, site "nasa".
    tuple = {9325, 9325 * 24 + 13, (1995 - 1970) * 12 + 6, 3, pool.intern("nasa")};
  }
};

/// An engine that only renders placeholders: the fuzzer exercises the SQL text, not an engine.
class TextOnlyEngine : public dbuild::exec::Engine {
 public:
  std::string kind() const override { return "text"; }
  std::string describe() const override { return "text only"; }
  int max_writers() const override { return 0; }
  dbuild::Result<std::unique_ptr<dbuild::exec::EngineSession>> open() override { return none(); }
  dbuild::Result<std::unique_ptr<dbuild::exec::EngineSession>> open_scratch() override { return none(); }
  std::string placeholder(size_t index, const dbuild::exec::Value&) const override {
    return "?" + std::to_string(index + 1);
  }

 private:
  static dbuild::Status none() { return dbuild::Status::Error("no sessions"); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fx = new Fixture;
  std::string text(reinterpret_cast<const char*>(data), size);
  dbuild::SourceFiles files;
  dbuild::FileId file = files.add("fuzz.sql", text);
  dbuild::Diagnostics diags;
  fx->ds.text = text;
  fx->ds.parts = dbuild::split_templates(text, dbuild::TextOrigin{file, 0, true}, diags);
  diags.sort();
  (void)dbuild::render(diags, files);
  for (const dbuild::TemplatePart& part : fx->ds.parts) {
    if (!part.is_template) continue;
    (void)dbuild::exec::template_value(part.expr, fx->model, fx->ds, fx->tuple, fx->pool);
  }
  size_t params = 0;
  static TextOnlyEngine engine;
  (void)dbuild::exec::sql_with_parameters(fx->ds, engine, {}, &params);
  return 0;
}
