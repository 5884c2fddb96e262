// CSV records per RFC 4180, parsed in place in the loader's window.
#include <cstring>
#include <deque>

#include "loading/loader_formats.h"

namespace dbuild::exec {

namespace {

/// Where the scan of one record stands, as indexes into the window.
struct Cursor {
  size_t i = 0;                // next byte
  uint64_t line = 0;           // line of byte i
  size_t line_start = 0;       // index of the first byte of that line
  size_t line_end = SIZE_MAX;  // index of the '\n' ending that line; SIZE_MAX: not yet known
  uint32_t col() const { return static_cast<uint32_t>(i - line_start + 1); }
};

/// What scanning found; NeedMore: the window ends inside the record and the file has more.
enum class Scan { Record, Blank, End, Malformed, NeedMore };

/// RFC 4180 records; a record that does not end inside the window is parsed again after fill().
class CsvParser : public RecordParser {
 public:
  CsvParser(LoaderInput* in, char delimiter) : in_(in), delim_(delimiter) {}

  Result<ParseOutcome> next(std::vector<RawField>* fields, Malformed* bad) override {
    for (;;) {
      switch (scan_record(fields, bad)) {
        case Scan::Record: return ParseOutcome::Record;
        case Scan::End: return ParseOutcome::End;
        case Scan::Malformed: return ParseOutcome::Malformed;
        case Scan::Blank: break;
        case Scan::NeedMore: {
          Status s = in_->fill();
          if (!s.ok()) return s;
          break;
        }
      }
    }
  }

 private:
  Scan scan_record(std::vector<RawField>* fields, Malformed* bad);
  Scan blank_line(std::string_view w);
  Scan plain_field(std::string_view w, Cursor& c, RawField* f);
  Scan quoted_field(std::string_view w, Cursor& c, RawField* f, Malformed* bad);
  Scan after_quote(std::string_view w, Cursor& c, Malformed* bad);
  Scan skip_line(std::string_view w, size_t from);
  Scan end_record(std::string_view w, const Cursor& c);
  std::string* next_scratch();

  LoaderInput* in_;
  char delim_;
  std::deque<std::string> scratch_;  // unescaped text of quoted fields with doubled quotes
  size_t scratch_used_ = 0;
};

void count_newlines(std::string_view w, size_t from, size_t to, Cursor& c) {
  while (from < to) {
    const void* nl = std::memchr(w.data() + from, '\n', to - from);
    if (!nl) return;
    from = static_cast<size_t>(static_cast<const char*>(nl) - w.data()) + 1;
    ++c.line;
    c.line_start = from;
  }
}

std::string* CsvParser::next_scratch() {
  if (scratch_used_ == scratch_.size()) scratch_.emplace_back();
  std::string* s = &scratch_[scratch_used_++];
  s->clear();
  return s;
}

Scan CsvParser::blank_line(std::string_view w) {
  if (w[0] == '\n') {
    in_->consume(1, 1);
    return Scan::Blank;
  }
  if (w.size() == 1) {  // a lone '\r'
    if (!in_->eof()) return Scan::NeedMore;
    in_->consume(1, 0);
    return Scan::Blank;
  }
  if (w[1] != '\n') return Scan::Record;  // not blank: "\r" starts a field
  in_->consume(2, 1);
  return Scan::Blank;
}

Scan CsvParser::scan_record(std::vector<RawField>* fields, Malformed* bad) {
  std::string_view w = in_->window();
  if (w.empty()) return in_->eof() ? Scan::End : Scan::NeedMore;
  if (w[0] == '\n' || w[0] == '\r') {
    Scan b = blank_line(w);
    if (b != Scan::Record) return b;
  }
  fields->clear();
  scratch_used_ = 0;
  Cursor c;
  c.line = in_->line();
  for (;;) {
    RawField f;
    f.line = c.line;
    f.col = c.col();
    bool quoted = c.i < w.size() && w[c.i] == '"';
    Scan s = quoted ? quoted_field(w, c, &f, bad) : plain_field(w, c, &f);
    if (s != Scan::Record) return s;
    fields->push_back(f);
    if (c.i < w.size() && w[c.i] == delim_) {
      ++c.i;
      continue;
    }
    return end_record(w, c);
  }
}

// c.i is at the '\n' ending the record, or at the end of the file.
Scan CsvParser::end_record(std::string_view w, const Cursor& c) {
  bool newline = c.i < w.size();
  in_->consume(newline ? c.i + 1 : c.i, c.line - in_->line() + (newline ? 1 : 0));
  return Scan::Record;
}

Scan CsvParser::plain_field(std::string_view w, Cursor& c, RawField* f) {
  if (c.line_end == SIZE_MAX || c.line_end < c.i) {
    const void* nl = std::memchr(w.data() + c.i, '\n', w.size() - c.i);
    if (!nl && !in_->eof()) return Scan::NeedMore;
    c.line_end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - w.data()) : w.size();
  }
  const void* d = std::memchr(w.data() + c.i, delim_, c.line_end - c.i);
  size_t stop = d ? static_cast<size_t>(static_cast<const char*>(d) - w.data()) : c.line_end;
  f->text = w.substr(c.i, stop - c.i);
  if (!d && !f->text.empty() && f->text.back() == '\r') f->text.remove_suffix(1);
  c.i = stop;
  return Scan::Record;
}

Scan CsvParser::quoted_field(std::string_view w, Cursor& c, RawField* f, Malformed* bad) {
  const size_t open = c.i++;
  f->quoted = true;
  std::string* unescaped = nullptr;
  size_t seg = c.i;
  for (;;) {
    const void* q = std::memchr(w.data() + c.i, '"', w.size() - c.i);
    size_t qi = q ? static_cast<size_t>(static_cast<const char*>(q) - w.data()) : w.size();
    count_newlines(w, c.i, qi, c);
    if (!q || (qi + 1 == w.size() && !in_->eof())) {
      if (!in_->eof()) return Scan::NeedMore;
      *bad = {f->line, f->col, "unterminated quoted field: expected a closing '\"'"};
      return skip_line(w, open);
    }
    if (qi + 1 < w.size() && w[qi + 1] == '"') {  // a doubled quote stands for one
      if (!unescaped) unescaped = next_scratch();
      unescaped->append(w.data() + seg, qi + 1 - seg);
      c.i = seg = qi + 2;
      continue;
    }
    if (unescaped) unescaped->append(w.data() + seg, qi - seg);
    f->text = unescaped ? std::string_view(*unescaped) : w.substr(seg, qi - seg);
    c.i = qi + 1;
    return after_quote(w, c, bad);
  }
}

// After a closing quote: a delimiter, the end of the line, or the end of the file.
Scan CsvParser::after_quote(std::string_view w, Cursor& c, Malformed* bad) {
  if (c.i == w.size()) return in_->eof() ? Scan::Record : Scan::NeedMore;
  char ch = w[c.i];
  if (ch == delim_ || ch == '\n') return Scan::Record;
  if (ch == '\r') {
    if (c.i + 1 == w.size()) {
      if (!in_->eof()) return Scan::NeedMore;
      ++c.i;
      return Scan::Record;
    }
    if (w[c.i + 1] == '\n') {
      ++c.i;
      return Scan::Record;
    }
  }
  *bad = {c.line, c.col(),
          std::string("expected a delimiter '") + delim_ +
              "' or the end of the line after a closing quote"};
  return skip_line(w, c.i);
}

// Consumes the record up to the end of the line holding byte `from`; the record is malformed.
Scan CsvParser::skip_line(std::string_view w, size_t from) {
  const void* nl = std::memchr(w.data() + from, '\n', w.size() - from);
  if (!nl && !in_->eof()) return Scan::NeedMore;
  size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - w.data()) + 1 : w.size();
  Cursor counted;
  count_newlines(w, 0, end, counted);
  in_->consume(end, counted.line);
  return Scan::Malformed;
}

}  // namespace

std::unique_ptr<RecordParser> make_csv_parser(LoaderInput* in, char delimiter) {
  return std::make_unique<CsvParser>(in, delimiter);
}

}  // namespace dbuild::exec
