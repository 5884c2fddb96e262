#pragma once
/// The harness shared by the loader fuzz targets (one per file format).
///
/// An input is a spec line, then (Regex only) a pattern line, then the file's bytes. The spec
/// line's characters choose the LoadSpec, so seeds stay readable and mutations reach every
/// option:
///   h header · s skip_malformed · n null token "-" · N null token "NULL"
///   S I F B D T a column (named a, b, c...) of type String, Int, Float, Bool, Date, Timestamp
///   d<c> the delimiter <c> · =<rest of line> the parse format of the Date/Timestamp columns
/// The file is loaded twice: through Loader (typed rows, as a build does) and through the
/// bare record parser, once with a large read buffer and once with a tiny one; the two
/// parses must agree exactly (records may straddle buffer refills anywhere).
#include <cstddef>
#include <cstdint>

#include "loading/loader.h"

namespace dbuild::fuzz {

/// Runs one fuzz input; aborts when the two parses disagree.
int fuzz_loader(exec::FormatKind kind, const uint8_t* data, size_t size);

}  // namespace dbuild::fuzz
