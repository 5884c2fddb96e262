// Line-oriented record parsers: TSV, plain lines, and lines matched by a regular expression.
#include <cstring>

#include <fmt/format.h>
#include <re2/re2.h>

#include "loading/loader_formats.h"

namespace dbuild::exec {

namespace {

/// Fields separated by a delimiter, no quoting; empty lines are skipped.
class TsvParser : public RecordParser {
 public:
  TsvParser(LoaderInput* in, char delimiter) : in_(in), delim_(delimiter) {}

  Result<ParseOutcome> next(std::vector<RawField>* fields, Malformed*) override {
    std::string_view line;
    uint64_t number = 0;
    Result<bool> got = in_->next_nonempty_line(&line, &number);
    if (!got.ok()) return got.status();
    if (!*got) return ParseOutcome::End;
    split(line, number, fields);
    return ParseOutcome::Record;
  }

 private:
  void split(std::string_view line, uint64_t number, std::vector<RawField>* fields) const {
    fields->clear();
    size_t start = 0;
    for (;;) {
      const void* d = std::memchr(line.data() + start, delim_, line.size() - start);
      size_t stop = d ? static_cast<size_t>(static_cast<const char*>(d) - line.data()) : line.size();
      RawField f;
      f.text = line.substr(start, stop - start);
      f.line = number;
      f.col = static_cast<uint32_t>(start + 1);
      fields->push_back(f);
      if (!d) return;
      start = stop + 1;
    }
  }

  LoaderInput* in_;
  char delim_;
};

/// One field per line. Empty lines are rows, except those after the last non-empty line: a run of
/// empty lines is held back until a non-empty line shows it is not trailing.
class LinesParser : public RecordParser {
 public:
  explicit LinesParser(LoaderInput* in) : in_(in) {}

  Result<ParseOutcome> next(std::vector<RawField>* fields, Malformed*) override {
    if (blank_run_ > 0 && held_) return emit({}, first_blank_++, fields, /*blank=*/true);
    if (held_) {
      held_ = false;
      return emit(held_text_, held_line_, fields, false);
    }
    for (;;) {
      std::string_view line;
      uint64_t number = 0;
      Result<bool> got = in_->next_line(&line, &number);
      if (!got.ok()) return got.status();
      if (!*got) return ParseOutcome::End;  // a pending run of empty lines was trailing
      if (line.empty()) {
        if (blank_run_++ == 0) first_blank_ = number;
        continue;
      }
      if (blank_run_ == 0) return emit(line, number, fields, false);
      held_ = true;
      held_text_ = line;  // stays valid: nothing is read until it is emitted
      held_line_ = number;
      return emit({}, first_blank_++, fields, true);
    }
  }

 private:
  ParseOutcome emit(std::string_view text, uint64_t line, std::vector<RawField>* fields,
                    bool blank) {
    if (blank) --blank_run_;
    fields->resize(1);
    (*fields)[0] = RawField{text, line, 1, false, false};
    return ParseOutcome::Record;
  }

  LoaderInput* in_;
  uint64_t blank_run_ = 0;    // empty lines read but not yet emitted
  uint64_t first_blank_ = 0;  // line of the first of them
  bool held_ = false;         // a non-empty line waits behind the empty ones
  std::string_view held_text_;
  uint64_t held_line_ = 0;
};

/// One row per line, fields from the capturing groups of a whole-line match.
class RegexParser : public RecordParser {
 public:
  RegexParser(LoaderInput* in, std::unique_ptr<RE2> re)
      : in_(in), re_(std::move(re)), groups_(re_->NumberOfCapturingGroups() + 1) {}

  Result<ParseOutcome> next(std::vector<RawField>* fields, Malformed* bad) override {
    std::string_view line;
    uint64_t number = 0;
    Result<bool> got = in_->next_nonempty_line(&line, &number);
    if (!got.ok()) return got.status();
    if (!*got) return ParseOutcome::End;
    re2::StringPiece text(line.data(), line.size());
    if (!re_->Match(text, 0, text.size(), RE2::ANCHOR_BOTH, groups_.data(),
                    static_cast<int>(groups_.size()))) {
      *bad = {number, 1, fmt::format("expected a line matching the pattern {}", re_->pattern())};
      return ParseOutcome::Malformed;
    }
    fields->resize(groups_.size() - 1);
    for (size_t g = 1; g < groups_.size(); ++g) {
      const re2::StringPiece& m = groups_[g];
      RawField& f = (*fields)[g - 1];
      f = RawField{{}, number, 1, m.data() == nullptr, false};
      if (m.data()) {
        f.text = std::string_view(m.data(), m.size());
        f.col = static_cast<uint32_t>(m.data() - line.data() + 1);
      }
    }
    return ParseOutcome::Record;
  }

 private:
  LoaderInput* in_;
  std::unique_ptr<RE2> re_;
  std::vector<re2::StringPiece> groups_;  // [0] is the whole match
};

}  // namespace

std::unique_ptr<RecordParser> make_tsv_parser(LoaderInput* in, char delimiter) {
  return std::make_unique<TsvParser>(in, delimiter);
}

std::unique_ptr<RecordParser> make_lines_parser(LoaderInput* in) {
  return std::make_unique<LinesParser>(in);
}

Result<std::unique_ptr<RecordParser>> make_regex_parser(LoaderInput* in, const std::string& pattern,
                                                        size_t columns) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) {
    return Status::Error(fmt::format("invalid pattern {}: {}", pattern, re->error()));
  }
  size_t groups = static_cast<size_t>(re->NumberOfCapturingGroups());
  if (groups != columns) {
    return Status::Error(fmt::format(
        "the pattern has {} capturing groups but {} columns are declared; give one group per "
        "column (use (?:...) for groups that are not columns)",
        groups, columns));
  }
  return std::unique_ptr<RecordParser>(std::make_unique<RegexParser>(in, std::move(re)));
}

}  // namespace dbuild::exec
