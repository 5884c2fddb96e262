#include "eval/verify.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "eval/action_specs.h"
#include "eval/command_runner.h"
#include "eval/engines.h"
#include "graph/file_discovery.h"

namespace dbuild::exec {

Result<std::vector<Mismatch>> verify_outputs(const ActionGraph& g, const StateStore& store,
                                             const Engines& engines, size_t* checked) {
  EngineSessions sessions(engines);
  std::vector<Mismatch> out;
  *checked = 0;
  for (const auto& ds : g.model->datasets) {
    if (ds.kind == Dataset::Kind::TableSource) continue;
    bool file_output = ds.kind == Dataset::Kind::CommandTable && ds.format == kNone;
    std::vector<std::pair<std::string, PartitionRecord>> records;
    std::vector<std::string> damaged;
    {
      auto txn = store.read();  // released before the engine reads, keeping the snapshot short
      if (!txn.ok()) return txn.status();
      Status s = txn->for_each_partition_of(
          ds.name, [&](std::string_view, std::string_view p, const PartitionRecord& r) {
            if (r.has_build()) records.emplace_back(std::string(p), r);
          }, &damaged);
      if (!s.ok()) return s;
    }
    auto label_of = [&](const std::string& text) { return ds.keys.empty() ? ds.name : ds.name + "@" + text; };
    for (const auto& text : damaged) {
      ++*checked;
      out.push_back({label_of(text), "its state record is damaged; the next build sets it aside and rebuilds the partition"});
    }
    EngineSession* session = nullptr;
    if (!file_output && !records.empty()) {
      auto opened = sessions.of(ds);
      if (!opened.ok()) return opened.status();
      session = *opened;
    }
    auto exists = session ? session->table_exists(ds.name) : Result<bool>(true);
    if (!exists.ok()) return exists.status();
    StringPool pool;  // the partitions' own ids: key_columns() reads their values from it
    for (const auto& [text, rec] : records) {
      ++*checked;
      std::string label = label_of(text);
      if (rec.status == PartitionStatus::kInFlight) {
        out.push_back({label, "a build was interrupted while writing it; the next build redoes it", true});
        continue;
      }
      if (!*exists) {
        out.push_back({label, "the output table is missing"});
        continue;
      }
      auto tuple = parse_partition_text(ds.keys, text, pool);
      if (!tuple) {
        out.push_back({label, "the recorded partition does not fit the dataset's keys any more"});
        continue;
      }
      if (file_output) {
        auto rel = command_output_path(ds, *tuple, pool);
        if (!rel.ok()) {
          out.push_back({label, rel.status().message()});
          continue;
        }
        std::string path = g.model->root + "/" + *rel;
        std::ifstream in(path, std::ios::binary);
        std::ostringstream bytes;
        bytes << in.rdbuf();
        if (!in) out.push_back({label, "the output file is missing"});
        else if (hash_bytes(bytes.str()) != rec.fingerprint) out.push_back({label, "the output file changed since it was built"});
        continue;
      }
      auto fp = session->fingerprint_partition(ds.name, key_columns(ds, *tuple, pool));
      if (!fp.ok()) return fp.status();
      if (fp->fingerprint != rec.fingerprint)
        out.push_back({label, fmt::format("the data changed since it was built (recorded {} rows, found {})",
                                          rec.row_count, fp->rows)});
    }
  }
  return out;
}

}  // namespace dbuild::exec
