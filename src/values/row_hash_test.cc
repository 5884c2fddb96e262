#include "values/row_hash.h"

#include <doctest/doctest.h>

namespace dbuild::exec {

namespace {

Hash128 row(int64_t a, std::string_view b) {
  RowEncoder enc;
  enc.add_int("a", a);
  enc.add_text("b", b);
  return enc.hash();
}

}  // namespace

TEST_CASE("row encoding: names, types and boundaries count") {
  RowEncoder x, y;
  x.add_text("a", "bc");
  y.add_text("ab", "c");
  CHECK(x.hash() != y.hash());
  x.clear();
  y.clear();
  x.add_int("a", 1);
  y.add_real("a", 1.0);
  CHECK(x.hash() != y.hash());
  x.clear();
  y.clear();
  x.add_text("a", "x");
  y.add_blob("a", "x");
  CHECK(x.hash() != y.hash());
  x.clear();
  y.clear();
  x.add_real("a", 0.0);
  y.add_real("a", -0.0);
  CHECK(x.hash() == y.hash());
  x.clear();
  y.clear();
  x.add_text("a", "1");  // (a='1', b=NULL) vs (a=NULL, b='1'): NULLs are left out, names are not
  y.add_text("b", "1");
  CHECK(x.hash() != y.hash());
}

TEST_CASE("multiset hash: order-independent, counts duplicates, carries between lanes") {
  MultisetHash ab, ba, aab, empty;
  ab.add(row(1, "a"));
  ab.add(row(2, "b"));
  ba.add(row(2, "b"));
  ba.add(row(1, "a"));
  aab.add(row(1, "a"));
  aab.add(row(1, "a"));
  aab.add(row(2, "b"));
  CHECK(ab.finish() == ba.finish());
  CHECK(ab.finish() != aab.finish());
  CHECK(ab.rows() == 2);
  CHECK(empty.finish() != ab.finish());
  CHECK(empty.finish() == MultisetHash().finish());

  // lo lanes that overflow carry into hi: {max,0}+{1,0} == {0,1}+{0,0}.
  MultisetHash carry, direct;
  carry.add(Hash128{UINT64_MAX, 0});
  carry.add(Hash128{1, 0});
  direct.add(Hash128{0, 1});
  direct.add(Hash128{0, 0});
  CHECK(carry.finish() == direct.finish());
}

}  // namespace dbuild::exec
