// Fuzzes the tsv loader: any file must load (or fail with an error) without crashing, and
// parse the same whatever the read buffer's size. Input layout: fuzz/loader_fuzz.h.
#include "loader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return dbuild::fuzz::fuzz_loader(dbuild::exec::FormatKind::Tsv, data, size);
}
