#include "graph/file_discovery.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <re2/re2.h>

namespace fs = std::filesystem;

namespace dbuild {
namespace {

const char* value_pattern(KeyType t) {
  switch (t) {
    case KeyType::Date: return "(\\d{4}-\\d{2}-\\d{2})";
    case KeyType::Month: return "(\\d{4}-\\d{2})";
    case KeyType::Hour: return "(\\d{4}-\\d{2}-\\d{2}[T ]\\d{2})";
    case KeyType::Int: return "(-?\\d+)";
    case KeyType::String: return "([^/]+?)";
  }
  return "(.+?)";
}

/// One path segment: literal, or a regex with the key index of each group.
struct Segment {
  std::string literal;
  std::unique_ptr<RE2> re;
  std::vector<size_t> group_keys;
};

std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= p.size()) {
    size_t slash = p.find('/', pos);
    std::string part = p.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    if (!part.empty() && part != ".") out.push_back(part);
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return out;
}

Segment compile_segment(const std::string& text, const std::vector<PartitionKeyDef>& keys) {
  Segment seg;
  if (text.find('{') == std::string::npos) {
    seg.literal = text;
    return seg;
  }
  std::string pattern;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('{', pos);
    if (open == std::string::npos) open = text.size();
    pattern += RE2::QuoteMeta(text.substr(pos, open - pos));
    if (open == text.size()) break;
    size_t close = text.find('}', open);
    std::string name = text.substr(open + 1, close - open - 1);
    auto it = std::find_if(keys.begin(), keys.end(), [&](auto& k) { return k.name == name; });
    size_t key = static_cast<size_t>(it - keys.begin());
    pattern += value_pattern(it == keys.end() ? KeyType::String : it->type);
    seg.group_keys.push_back(key);
    pos = close + 1;
  }
  seg.re = std::make_unique<RE2>(pattern);
  return seg;
}

/// What a path that should be a regular file is instead ("" if it is one, or is absent).
std::string not_a_file(const fs::path& p) {
  std::error_code ec;
  fs::file_status link = fs::symlink_status(p, ec);
  if (ec || !fs::exists(link)) return "";
  fs::file_status target = fs::status(p, ec);
  if (fs::is_regular_file(target)) return "";
  if (fs::is_symlink(link) && !fs::exists(target)) return "a dangling symbolic link";
  if (fs::is_directory(target)) return "a directory";
  if (fs::is_fifo(target)) return "a FIFO";
  if (fs::is_block_file(target) || fs::is_character_file(target)) return "a device";
  if (fs::is_socket(target)) return "a socket";
  return "not a regular file";
}

/// Walks the segments depth-first, collecting matches.
struct Walker {
  const std::vector<Segment>& segs;
  const Dataset& ds;
  StringPool& pool;
  std::vector<DiscoveredFile>& out;
  std::vector<std::string>* skipped;
  std::vector<std::string> bad;  // matched paths that are not regular files: "path is a FIFO"

  /// Notes a path where a directory is expected that is a dangling symbolic link: the files
  /// below it may be only out of reach, not gone.
  void note_dangling(const fs::path& p, const std::string& rel) {
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(p, ec)) && !fs::exists(fs::status(p, ec)))
      bad.push_back(fmt::format("{} is a dangling symbolic link", rel));
  }

  /// Notes a matched path that is there but is not a regular file.
  void note_not_file(const fs::path& p, const std::string& rel) {
    std::string what = not_a_file(p);
    if (!what.empty()) bad.push_back(fmt::format("{} is {}", rel, what));
  }

  void walk(const fs::path& dir, const std::string& rel, size_t i,
            std::vector<std::optional<std::string>> values) {
    std::error_code ec;
    const Segment& seg = segs[i];
    bool last = i + 1 == segs.size();
    if (seg.re == nullptr) {
      fs::path next = dir / seg.literal;
      std::string next_rel = rel.empty() ? seg.literal : rel + "/" + seg.literal;
      if (last) {
        if (fs::is_regular_file(next, ec)) emit(next_rel, values);
        else note_not_file(next, next_rel);
      } else if (fs::is_directory(next, ec)) {
        walk(next, next_rel, i + 1, values);
      } else {
        note_dangling(next, next_rel);
      }
      return;
    }
    fs::directory_iterator it(dir, ec), end;
    if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
      bad.push_back(fmt::format("{} cannot be listed ({})", rel.empty() ? "the workspace" : rel, ec.message()));
    for (; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.starts_with(".")) continue;
      std::vector<std::string> groups(seg.group_keys.size());
      std::vector<RE2::Arg> args(groups.size());
      std::vector<RE2::Arg*> argp(groups.size());
      for (size_t g = 0; g < groups.size(); ++g) {
        args[g] = &groups[g];
        argp[g] = &args[g];
      }
      if (!RE2::FullMatchN(name, *seg.re, argp.data(), static_cast<int>(argp.size()))) continue;
      auto vals = values;
      bool consistent = true;
      for (size_t g = 0; g < groups.size(); ++g) {
        auto& slot = vals[seg.group_keys[g]];
        if (slot && *slot != groups[g]) consistent = false;  // {day} twice with two values
        slot = groups[g];
      }
      if (!consistent) continue;
      std::string next_rel = rel.empty() ? name : rel + "/" + name;
      if (last) {
        if (it->is_regular_file(ec)) emit(next_rel, vals);
        else note_not_file(it->path(), next_rel);
      } else if (it->is_directory(ec)) {
        walk(it->path(), next_rel, i + 1, vals);
      } else {
        note_dangling(it->path(), next_rel);
      }
    }
  }

  void emit(const std::string& rel, const std::vector<std::optional<std::string>>& values) {
    DiscoveredFile f;
    f.path = rel;
    for (size_t k = 0; k < ds.keys.size(); ++k) {
      const std::string& text = values[k].value_or("");
      if (ds.keys[k].type == KeyType::String) {
        f.tuple.push_back(pool.intern(text));
        continue;
      }
      std::string normalized = text;
      if (ds.keys[k].type == KeyType::Hour && normalized.size() == 13) normalized[10] = 'T';
      auto v = parse_key_value(ds.keys[k].type, normalized);
      if (!v) {
        if (skipped)
          skipped->push_back(fmt::format("{}: `{}` is not a valid {} for key `{}`", rel, text,
                                         key_type_name(ds.keys[k].type), ds.keys[k].name));
        return;
      }
      f.tuple.push_back(*v);
    }
    out.push_back(std::move(f));
  }
};

}  // namespace

Result<std::vector<DiscoveredFile>> discover_files(const std::string& root, const Dataset& ds,
                                                   StringPool& pool, std::vector<std::string>* skipped) {
  std::vector<Segment> segs;
  for (const auto& part : split_path(ds.path_template)) segs.push_back(compile_segment(part, ds.keys));
  std::vector<DiscoveredFile> out;
  if (segs.empty()) return out;
  for (const auto& s : segs)
    if (s.re && !s.re->ok())
      return Status::Error(fmt::format("source `{}`: bad path template `{}`", ds.name, ds.path_template));
  fs::path start = fs::path(ds.path_template).is_absolute() ? fs::path("/") : fs::path(root);
  Walker w{segs, ds, pool, out, skipped};
  w.walk(start, fs::path(ds.path_template).is_absolute() ? "/" : "", 0,
         std::vector<std::optional<std::string>>(ds.keys.size()));
  if (!w.bad.empty())  // its partition would vanish, and its data with it: refuse instead
    return Status::Error(fmt::format(
        "source `{}`: {}{}, under its path template `{}`; make it a regular file (or directory) or move it "
        "out of the way (nothing was built or removed)",
        ds.name, w.bad.front(), w.bad.size() > 1 ? fmt::format(" (and {} more)", w.bad.size() - 1) : "",
        ds.path_template));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.tuple < b.tuple; });
  // Two files for one partition (2024-03-05T13 and "2024-03-05 13"): keep the first, report.
  auto dup = std::adjacent_find(out.begin(), out.end(), [](auto& a, auto& b) { return a.tuple == b.tuple; });
  if (dup != out.end())
    return Status::Error(fmt::format("source `{}`: {} and {} are the same partition", ds.name,
                                     dup->path, (dup + 1)->path));
  return out;
}

std::string expand_path_template(const std::string& tmpl, const std::vector<PartitionKeyDef>& keys,
                                 std::span<const int64_t> tuple, const StringPool& pool) {
  std::string out;
  size_t pos = 0;
  while (pos < tmpl.size()) {
    size_t open = tmpl.find('{', pos);
    if (open == std::string::npos) {
      out += tmpl.substr(pos);
      break;
    }
    out += tmpl.substr(pos, open - pos);
    size_t close = tmpl.find('}', open);
    if (close == std::string::npos) close = tmpl.size() - 1;
    std::string name = tmpl.substr(open + 1, close - open - 1);
    for (size_t k = 0; k < keys.size(); ++k)
      if (keys[k].name == name)
        out += keys[k].type == KeyType::String ? pool.text(tuple[k]) : format_key_value(keys[k].type, tuple[k]);
    pos = close + 1;
  }
  return out;
}

}  // namespace dbuild
