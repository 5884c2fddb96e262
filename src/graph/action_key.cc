#include "graph/action_key.h"

#include <set>

#include "model/engine_identity.h"
#include "model/mapping.h"
#include "model/sql_lexer.h"

namespace dbuild {
namespace {

constexpr uint64_t kKeyVersion = 1;  // bump when what a key covers changes

void collect_vars(const ast::Expr& e, const Model& m, std::set<std::string>& out) {
  if (e.kind == ast::Expr::Kind::Identifier && m.vars.count(e.text)) out.insert(e.text);
  for (const auto& c : e.children) collect_vars(c, m, out);
}

void hash_format(Hasher& h, const FormatDef& f) {
  h.add(static_cast<uint64_t>(f.kind)).add(std::string_view(&f.delimiter, 1)).add(uint64_t{f.header});
  h.add(f.pattern).add(f.null_token).add(uint64_t{f.skip_malformed});
  for (const auto& c : f.columns) h.add(c.name).add(static_cast<uint64_t>(c.kind)).add(c.parse_format);
}

void hash_checks(Hasher& h, const Dataset& ds) {
  for (const auto& c : ds.checks) {
    h.add(static_cast<uint64_t>(c.kind)).add(c.op).add(static_cast<uint64_t>(c.count));
    for (const auto& col : c.columns) h.add(col);
    for (const auto& v : c.values) h.add(v);
    h.add(normalize_sql(c.sql));
  }
}

Hash128 definition_hash(const Model& m, const Dataset& ds) {
  Hasher h;
  h.add(kKeyVersion).add(ds.name).add(static_cast<uint64_t>(ds.kind));
  for (const auto& k : ds.keys) h.add(k.name).add(static_cast<uint64_t>(k.type));
  h.add(ds.kind == Dataset::Kind::SqlTable ? normalize_sql(ds.text) : ds.text);
  h.add(ds.path_template).add(ds.source_table).add(ds.output_template);
  if (ds.format != kNone) hash_format(h, m.formats[ds.format]);
  for (const auto& in : ds.inputs) h.add(describe_mapping(ds, m.datasets[in.dataset], in.terms));
  add_engine_identity(h, m, ds);
  hash_checks(h, ds);
  h.add(ds.group_max_count).add(ds.group_max_bytes);
  for (const auto& name : ds.command_env) h.add(name);  // names only: values are never stored
  for (const auto& name : variables_used(m, ds)) h.add(name).add(*m.vars.at(name).value);
  return h.finish();
}

void hash_tuple(Hasher& h, const ActionGraph& g, const Dataset& ds, std::span<const int64_t> tuple) {
  for (size_t k = 0; k < tuple.size(); ++k) {
    if (ds.keys[k].type == KeyType::String) h.add(g.pool.text(tuple[k]));
    else h.add(static_cast<uint64_t>(tuple[k]));
  }
}

Hash128 byte_hash(std::span<const Hash128> hashes, ActionId a) {
  return a < hashes.size() ? hashes[a] : Hash128{};
}

}  // namespace

std::vector<std::string> variables_used(const Model& m, const Dataset& ds) {
  std::set<std::string> names;
  for (const auto& part : ds.parts)
    if (part.is_template) collect_vars(part.expr, m, names);
  return {names.begin(), names.end()};
}

std::vector<Hash128> definition_hashes(const Model& model) {
  std::vector<Hash128> out;
  out.reserve(model.datasets.size());
  for (const auto& ds : model.datasets) out.push_back(definition_hash(model, ds));
  return out;
}

KeyParts action_key(const ActionGraph& g, const std::vector<Hash128>& definitions, ActionId a,
                    std::span<const Hash128> fingerprints, std::span<const Hash128> byte_hashes) {
  DatasetId d = g.dataset_of(a);
  const Dataset& ds = g.model->datasets[d];
  KeyParts parts;
  parts.definition = definitions[d];
  Hasher set, key;
  key.add(parts.definition);
  hash_tuple(key, g, ds, g.tuple_of(a));
  if (ds.kind == Dataset::Kind::FileSource) set.add(g.files[d][g.partition_of(a)]);
  for (ActionId in : g.inputs_of(a)) {
    DatasetId id = g.dataset_of(in);
    const Dataset& input = g.model->datasets[id];
    set.add(input.name);
    hash_tuple(set, g, input, g.tuple_of(in));
    bool bytes = ds.kind == Dataset::Kind::CommandTable &&
                 (input.kind == Dataset::Kind::FileSource || input.kind == Dataset::Kind::CommandTable);
    key.add(bytes ? byte_hash(byte_hashes, in) : fingerprints[in]);
  }
  parts.input_set = set.finish();
  key.add(parts.input_set).add(ds.kind == Dataset::Kind::FileSource ? byte_hash(byte_hashes, a) : Hash128{});
  parts.key = key.finish();
  return parts;
}

}  // namespace dbuild
