#include "differential_pipeline.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <sstream>

namespace dbuild::difftest {

namespace {

constexpr int kThresholds[] = {1, 2, 3, 5};
constexpr const char* kMonth = "2024-03";  // the one month of source `m`; days 0..30 are in it

int day_number(const std::string& text) { return std::stoi(text.substr(8, 2)) - 1; }

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

/// The rows SQL sees in a source file: its non-empty lines (after the header for csv), sorted.
std::string sorted_rows(const std::string& text, bool header) {
  auto lines = split_lines(text);
  if (header && !lines.empty()) lines.erase(lines.begin());
  std::sort(lines.begin(), lines.end());
  return join_lines(lines);
}

bool is_source(Kind k) { return k != Kind::SqlTable && k != Kind::CommandTable; }

std::string offset_text(int back) { return back == 0 ? "day" : "day - " + std::to_string(back); }

std::string mapping_text(const Input& in) {
  switch (in.mapping) {
    case Mapping::Identity: return "[day]";
    case Mapping::Shift: return "[" + offset_text(in.lo) + "]";
    case Mapping::Window: return "[" + offset_text(in.lo) + " .. " + offset_text(in.hi) + "]";
    case Mapping::MonthOfDay: return "[month(day)]";
    case Mapping::All: return "[*]";
    case Mapping::Whole: return "";
  }
  return "";
}

}  // namespace

std::string day_text(int d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2024-03-%02d", d + 1);
  return buf;
}

const char* edit_kind_name(EditKind k) {
  switch (k) {
    case EditKind::Content: return "content";
    case EditKind::Touch: return "touch";
    case EditKind::ReorderCsv: return "reorder_csv";
    case EditKind::ReorderLines: return "reorder_lines";
    case EditKind::Query: return "query";
    case EditKind::Cosmetic: return "cosmetic";
    case EditKind::Var: return "var";
    case EditKind::Delete: return "delete";
    case EditKind::Add: return "add";
    case EditKind::Count: break;
  }
  return "?";
}

World::World(uint64_t seed) : rng_(seed) { generate(); }

// ---- Generation ----

std::string World::random_csv(bool lookup) {
  std::string out = lookup ? "k,w\n" : "k,v\n";
  int rows = 2 + pick(4);
  for (int i = 0; i < rows; ++i) out += std::to_string(pick(6)) + "," + std::to_string(pick(10)) + "\n";
  return out;
}

std::string World::random_lines() {
  std::string out;
  int lines = 2 + pick(4);
  for (int i = 0; i < lines; ++i) {
    int len = 1 + pick(5);
    for (int c = 0; c < len; ++c) out += static_cast<char>('a' + pick(5));
    out += "\n";
  }
  return out;
}

void World::generate() {
  datasets_ = {{"a", Kind::DayCsv}, {"b", Kind::DayLines}, {"m", Kind::MonthCsv}, {"lk", Kind::Lookup, false}};
  for (int src = 0; src < 2; ++src) {
    int made = 0;
    for (int d = 0; d < 8; ++d) {
      if (pick(4) == 0 && !(d >= 6 && made < 2)) continue;
      files_[source_path(datasets_[src], day_text(d))] = src == 0 ? random_csv(false) : random_lines();
      ++made;
    }
  }
  files_["data/m/" + std::string(kMonth) + ".csv"] = random_csv(false);
  files_["data/lk.csv"] = random_csv(true);
  int tables = 3 + pick(4);
  for (int i = 0; i < tables; ++i) add_table(pick(10) < 3);
  threshold_ = kThresholds[pick(4)];
  files_["workspace.dbuild"] = "workspace {\n  warehouse = \"warehouse.db\"\n}\n\nvar threshold = 1\n";
  files_["sources.dbuild"] = R"(source a {
  path = "data/a/{day}.csv"
  format = csv
  partition day: date
  columns { k: int  v: int }
}

source b {
  path = "data/b/{day}.txt"
  format = lines
  partition day: date
}

source m {
  path = "data/m/{month}.csv"
  format = csv
  partition month: month
  columns { k: int  v: int }
}

source lk {
  path = "data/lk.csv"
  format = csv
  columns { k: int  w: int }
}
)";
  write_rules();
}

void World::add_table(bool command) {
  Dataset t;
  int id = static_cast<int>(datasets_.size());
  t.kind = command ? Kind::CommandTable : Kind::SqlTable;
  t.name = (command ? "c" : "t") + std::to_string(id);
  t.variant = pick(4);
  t.uses_var = pick(10) < 4;
  std::vector<int> day_inputs, whole_inputs;
  for (int d = 0; d < id; ++d) {
    const Dataset& in = datasets_[d];
    bool readable = command ? (in.kind == Kind::DayLines || in.kind == Kind::CommandTable || in.kind == Kind::SqlTable)
                            : (in.kind != Kind::CommandTable && in.kind != Kind::MonthCsv);
    if (!readable) continue;
    if (in.partitioned) day_inputs.push_back(d);
    else whole_inputs.push_back(d);
  }
  t.partitioned = command || pick(100) < 85;
  if (t.partitioned) {
    const Mapping primary[] = {Mapping::Identity, Mapping::Shift, Mapping::Window};
    int first = day_inputs[pick(static_cast<int>(day_inputs.size()))];
    Input in{first, primary[pick(3)]};
    if (in.mapping == Mapping::Shift) in.lo = in.hi = 1 + pick(2);
    if (in.mapping == Mapping::Window) {
      in.hi = pick(2);
      in.lo = in.hi + 1 + pick(3);
    }
    t.inputs.push_back(in);
    if (pick(2) == 0) {  // a second input that does not decide the partitions, or also does
      int choice = pick(4);
      if (choice == 0 && !whole_inputs.empty())
        t.inputs.push_back({whole_inputs[pick(static_cast<int>(whole_inputs.size()))], Mapping::Whole});
      else if (!command && choice == 1)
        t.inputs.push_back({2, Mapping::MonthOfDay});
      else {
        int second = day_inputs[pick(static_cast<int>(day_inputs.size()))];
        if (second != first) t.inputs.push_back({second, pick(2) == 0 ? Mapping::All : Mapping::Identity});
      }
    }
  } else {
    std::vector<int> all = day_inputs;
    all.insert(all.end(), whole_inputs.begin(), whole_inputs.end());
    int first = all[pick(static_cast<int>(all.size()))];
    t.inputs.push_back({first, Mapping::Whole});
    int second = all[pick(static_cast<int>(all.size()))];
    if (second != first && pick(2) == 0) t.inputs.push_back({second, Mapping::Whole});
  }
  datasets_.push_back(t);
}

// ---- Rule files ----

std::string World::sql_text(const Dataset& ds) const {
  std::vector<std::string> views;
  for (const auto& in : ds.inputs) {
    const Dataset& d = datasets_[in.dataset];
    if (d.kind == Kind::DayLines) views.push_back("SELECT length(line) AS k, 1 AS v FROM " + d.name);
    else if (d.kind == Kind::Lookup) views.push_back("SELECT k, w AS v FROM " + d.name);
    else views.push_back("SELECT k, v FROM " + d.name);
  }
  std::string from = views[0];
  for (size_t i = 1; i < views.size(); ++i) from += " UNION ALL " + views[i];
  static const char* kSelect[] = {"SELECT k, sum(v) AS v", "SELECT k, count(*) AS v",
                                  "SELECT k % 3 AS k, sum(v) AS v", "SELECT k, max(v) AS v"};
  static const char* kGroup[] = {"GROUP BY k", "GROUP BY k", "GROUP BY k % 3", "GROUP BY k"};
  std::vector<std::string> lines = {kSelect[ds.variant], "FROM (" + from + ")"};
  if (ds.uses_var) lines.push_back("WHERE v >= {{ threshold }}");
  lines.push_back(kGroup[ds.variant]);
  // Formatting revisions: comments and whitespace, which never change what the query means.
  switch (ds.cosmetic % 3) {
    case 1: lines.insert(lines.begin() + 1, "-- revision " + std::to_string(ds.cosmetic)); break;
    case 2: {
      std::string one;
      for (const auto& l : lines) one += (one.empty() ? "" : "\n\n      ") + l;
      lines = {one};
      break;
    }
    default: break;
  }
  std::string out;
  for (const auto& l : lines) out += "    " + l + "\n";
  return out;
}

std::string World::command_text(const Dataset& ds) const {
  std::string files, queries;
  for (const auto& in : ds.inputs) {
    const Dataset& d = datasets_[in.dataset];
    if (d.kind == Kind::SqlTable) {  // read from the warehouse, the partitions of the mapping
      std::string where;
      if (in.mapping == Mapping::Identity) where = " WHERE day = '$d'";
      if (in.mapping == Mapping::Shift) where = " WHERE day = date('$d', '-" + std::to_string(in.lo) + " days')";
      if (in.mapping == Mapping::Window)
        where = " WHERE day BETWEEN date('$d', '-" + std::to_string(in.lo) + " days') AND date('$d', '-" +
                std::to_string(in.hi) + " days')";
      queries += " sqlite3 -cmd '.timeout 10000' \"$DBUILD_WAREHOUSE\" \"SELECT k || ',' || v FROM " + d.name +
                 where + " ORDER BY 1\" 2>/dev/null;";
      continue;
    }
    std::string dir = d.kind == Kind::DayLines ? "data/" + d.name + "/" : "out/" + d.name + "/";
    switch (in.mapping) {
      case Mapping::Identity: files += " " + dir + "{{ day }}.txt"; break;
      case Mapping::Shift: files += " " + dir + "{{ " + offset_text(in.lo) + " }}.txt"; break;
      case Mapping::Window:
        for (int back = in.lo; back >= in.hi; --back) files += " " + dir + "{{ " + offset_text(back) + " }}.txt";
        break;
      default: files += " " + dir + "*.txt"; break;
    }
  }
  static const char* kTransform[] = {"cat", "sort", "sort -r", "tr a-e A-E"};
  std::string out = "    d={{ day }}; {";
  if (!files.empty()) out += " cat" + files + " 2>/dev/null;";
  out += queries + " true; } | " + kTransform[ds.variant];
  if (ds.uses_var) out += " | head -n {{ threshold }}";
  return out + " > {{ output }}\n";
}

std::string World::rule_text(const Dataset& ds) const {
  std::string out;
  for (int i = 0; i < ds.cosmetic; ++i) out += "# note " + std::to_string(i) + "\n";
  out += "table " + ds.name + " {\n";
  // Revisions 3, 7...: two statements on one line (whitespace carries no meaning).
  if (ds.partitioned) out += ds.cosmetic % 4 == 3 ? "  partition day: date  " : "  partition day: date\n  ";
  else out += "  ";
  out += "input ";
  for (size_t i = 0; i < ds.inputs.size(); ++i)
    out += (i ? ", " : "") + datasets_[ds.inputs[i].dataset].name + mapping_text(ds.inputs[i]);
  out += "\n";
  if (ds.kind == Kind::SqlTable) {
    out += "  sql \"\"\"\n" + sql_text(ds) + "  \"\"\"\n";
  } else {
    out += "  command \"\"\"\n" + command_text(ds) + "  \"\"\"\n";
    out += "  output \"out/" + ds.name + "/{day}.txt\"\n";
  }
  return out + "}\n";
}

void World::write_rules() {
  for (const auto& ds : datasets_)
    if (!is_source(ds.kind)) files_["rules/" + ds.name + ".dbuild"] = rule_text(ds);
}

std::string World::var_args() const { return "--var threshold=" + std::to_string(threshold_); }

std::string World::describe() const {
  std::string out;
  for (const auto& ds : datasets_) {
    if (is_source(ds.kind)) continue;
    out += ds.name + (ds.partitioned ? "(day)" : "()") + " <-";
    for (const auto& in : ds.inputs) out += " " + datasets_[in.dataset].name + mapping_text(in);
    out += "; ";
  }
  return out;
}

// ---- Partitions and the reference ----

std::string World::source_path(const Dataset& ds, const std::string& part) const {
  switch (ds.kind) {
    case Kind::DayCsv: return "data/" + ds.name + "/" + part + ".csv";
    case Kind::DayLines: return "data/" + ds.name + "/" + part + ".txt";
    case Kind::MonthCsv: return "data/" + ds.name + "/" + part + ".csv";
    default: return "data/" + ds.name + ".csv";
  }
}

std::vector<std::string> World::source_files(const Dataset& ds) const {
  std::vector<std::string> out;
  if (ds.kind == Kind::Lookup) {
    if (files_.count("data/lk.csv")) out.push_back("");
    return out;
  }
  std::string prefix = "data/" + ds.name + "/";
  for (const auto& [path, text] : files_)
    if (path.rfind(prefix, 0) == 0) out.push_back(path.substr(prefix.size(), path.rfind('.') - prefix.size()));
  return out;
}

std::vector<std::string> World::partitions(int d) const {
  const Dataset& ds = datasets_[d];
  if (is_source(ds.kind)) return source_files(ds);
  if (!ds.partitioned) return {""};
  // Each input whose mapping decides the output's keys gives a set; the partitions are their
  // intersection (docs/language.md §10: the output's partitions come from its inputs').
  std::optional<std::set<int>> days;
  for (const auto& in : ds.inputs) {
    if (in.mapping == Mapping::All || in.mapping == Mapping::Whole) continue;
    std::set<int> from;
    for (const auto& p : partitions(in.dataset)) {
      if (in.mapping == Mapping::MonthOfDay) {
        if (p == kMonth) for (int x = 0; x < 31; ++x) from.insert(x);
      } else {
        // An input day d is read by the output days whose newest read day is d.
        from.insert(day_number(p) + (in.mapping == Mapping::Identity ? 0 : in.hi));
      }
    }
    if (!days) days = from;
    else {
      std::set<int> both;
      for (int x : *days) if (from.count(x)) both.insert(x);
      days = both;
    }
  }
  std::vector<std::string> out;
  if (days) for (int x : *days) out.push_back(day_text(x));
  return out;
}

std::set<std::string> World::inputs_of(const Dataset& ds, const std::string& part) const {
  std::set<std::string> out;
  for (const auto& in : ds.inputs) {
    const Dataset& d = datasets_[in.dataset];
    auto parts = partitions(in.dataset);
    std::set<std::string> wanted;
    bool all = in.mapping == Mapping::All || in.mapping == Mapping::Whole || !ds.partitioned || !d.partitioned;
    if (!all) {
      int day = day_number(part);
      if (in.mapping == Mapping::Identity) wanted = {day_text(day)};
      if (in.mapping == Mapping::Shift || in.mapping == Mapping::Window)
        for (int back = in.lo; back >= in.hi; --back) wanted.insert(day_text(day - back));
      if (in.mapping == Mapping::MonthOfDay) wanted = {kMonth};
    }
    for (const auto& p : parts)
      if (all || wanted.count(p)) out.insert(d.name + "@" + p);
  }
  return out;
}

std::string World::definition(const Dataset& ds) const {
  std::string out = std::to_string(static_cast<int>(ds.kind)) + "/" + std::to_string(ds.variant);
  if (ds.uses_var) out += "/threshold=" + std::to_string(threshold_);
  for (const auto& in : ds.inputs)
    out += "/" + datasets_[in.dataset].name + mapping_text(in);
  return out;
}

Snapshot World::snapshot(const std::map<std::string, std::string>& table_rows,
                         const std::map<std::string, std::string>& command_bytes) const {
  Snapshot out;
  for (int d = 0; d < static_cast<int>(datasets_.size()); ++d) {
    const Dataset& ds = datasets_[d];
    for (const auto& p : partitions(d)) {
      std::string key = ds.name + "@" + p;
      PartitionView v;
      if (is_source(ds.kind)) {
        v.bytes = files_.at(source_path(ds, p));
        v.rows = sorted_rows(v.bytes, ds.kind != Kind::DayLines);
      } else {
        v.definition = definition(ds);
        v.inputs = inputs_of(ds, p);
        const auto& from = ds.kind == Kind::SqlTable ? table_rows : command_bytes;
        auto it = from.find(key);
        v.rows = v.bytes = it == from.end() ? "" : it->second;
      }
      out[key] = std::move(v);
    }
  }
  return out;
}

std::set<std::string> World::expected_runs(const Snapshot& before, const Snapshot& after) const {
  std::map<std::string, const Dataset*> by_name;
  for (const auto& ds : datasets_) by_name[ds.name] = &ds;
  std::set<std::string> out;
  for (const auto& [key, now] : after) {
    const Dataset& ds = *by_name.at(key.substr(0, key.find('@')));
    auto was = before.find(key);
    if (was == before.end()) {
      out.insert(key);  // new
      continue;
    }
    if (is_source(ds.kind)) {
      if (was->second.bytes != now.bytes) out.insert(key);  // a source file is its bytes
      continue;
    }
    bool run = was->second.definition != now.definition || was->second.inputs != now.inputs;
    for (const auto& in : now.inputs) {
      if (run) break;
      const PartitionView& a = before.at(in);
      const PartitionView& b = after.at(in);
      run = ds.kind == Kind::CommandTable ? a.bytes != b.bytes : a.rows != b.rows;
    }
    if (run) out.insert(key);
  }
  return out;
}

// ---- Edits ----

std::optional<std::string> World::edit_file(EditKind kind, const std::string& path, std::vector<std::string>& changed,
                                            std::vector<std::string>& deleted) {
  std::string& text = files_[path];
  bool lines_file = path.size() > 4 && path.substr(path.size() - 4) == ".txt";
  switch (kind) {
    case EditKind::Content: {
      std::string next = lines_file ? random_lines() : random_csv(path == "data/lk.csv");
      if (next == text) return std::nullopt;
      text = next;
      changed.push_back(path);
      return "content of " + path;
    }
    case EditKind::Touch:
      changed.push_back(path);
      return "touch " + path;
    case EditKind::ReorderCsv:
    case EditKind::ReorderLines: {
      if (lines_file != (kind == EditKind::ReorderLines)) return std::nullopt;
      auto lines = split_lines(text);
      std::string header;
      if (!lines_file) {
        header = lines.front() + "\n";
        lines.erase(lines.begin());
      }
      std::string next = text;
      for (int i = 0; i < 5 && next == text; ++i) {
        std::shuffle(lines.begin(), lines.end(), rng_);
        next = header + join_lines(lines);
      }
      if (next == text) return std::nullopt;
      text = next;
      changed.push_back(path);
      return "reorder lines of " + path;
    }
    case EditKind::Delete: {
      bool day_file = path.rfind("data/a/", 0) == 0 || path.rfind("data/b/", 0) == 0;
      if (!day_file) return std::nullopt;
      std::string dir = path.substr(0, 7);
      int left = 0;
      for (const auto& [p, t] : files_) left += p.rfind(dir, 0) == 0;
      if (left <= 2) return std::nullopt;  // keep two files of each daily source
      files_.erase(path);
      deleted.push_back(path);
      return "delete " + path;
    }
    case EditKind::Add: {
      int src = pick(2);
      std::string p = source_path(datasets_[src], day_text(pick(12)));
      if (files_.count(p)) return std::nullopt;
      files_[p] = src == 0 ? random_csv(false) : random_lines();
      changed.push_back(p);
      return "add " + p;
    }
    default: return std::nullopt;
  }
}

std::optional<std::string> World::edit_rules(EditKind kind, std::vector<std::string>& changed) {
  std::vector<int> tables;
  for (int d = 0; d < static_cast<int>(datasets_.size()); ++d)
    if (!is_source(datasets_[d].kind)) tables.push_back(d);
  if (kind == EditKind::Var) {
    int next = kThresholds[pick(4)];
    if (next == threshold_) return std::nullopt;
    threshold_ = next;  // nothing on disk changes: the builds take the new --var
    return "var threshold=" + std::to_string(threshold_);
  }
  Dataset& t = datasets_[tables[pick(static_cast<int>(tables.size()))]];
  std::string what;
  if (kind == EditKind::Cosmetic) {
    ++t.cosmetic;
    what = "reformat " + t.name + " (revision " + std::to_string(t.cosmetic) + ")";
  } else if (pick(10) < 3) {
    t.uses_var = !t.uses_var;
    what = "query of " + t.name + ": " + (t.uses_var ? "now uses threshold" : "no longer uses threshold");
  } else {
    t.variant = (t.variant + 1 + pick(3)) % 4;
    what = "query of " + t.name + ": variant " + std::to_string(t.variant);
  }
  files_["rules/" + t.name + ".dbuild"] = rule_text(t);
  changed.push_back("rules/" + t.name + ".dbuild");
  return what;
}

std::string World::edit(const std::set<EditKind>& enabled, std::vector<std::string>& changed,
                        std::vector<std::string>& deleted) {
  std::vector<EditKind> kinds(enabled.begin(), enabled.end());
  std::vector<std::string> sources;  // data files
  for (const auto& [path, text] : files_)
    if (path.rfind("data/", 0) == 0) sources.push_back(path);
  for (int attempt = 0; attempt < 100; ++attempt) {
    EditKind kind = kinds[pick(static_cast<int>(kinds.size()))];
    std::string path = sources[pick(static_cast<int>(sources.size()))];
    bool on_rules = kind == EditKind::Query || kind == EditKind::Cosmetic || kind == EditKind::Var;
    auto what = on_rules ? edit_rules(kind, changed) : edit_file(kind, path, changed, deleted);
    if (what) return *what;
  }
  return "nothing";
}

}  // namespace dbuild::difftest
