#include "graph/grouping.h"

#include <doctest/doctest.h>

namespace dbuild {
namespace {

std::vector<GroupInput> inputs(std::initializer_list<uint64_t> sizes) {
  std::vector<GroupInput> out;
  int i = 0;
  for (uint64_t s : sizes) out.push_back({"p" + std::to_string(++i), s});
  return out;
}

TEST_CASE("group: assign_groups fills by count and by size, and never moves a member") {
  Dataset ds;
  ds.group_max_count = 3;
  ds.group_max_bytes = 100;
  auto g = assign_groups(ds, {}, inputs({10, 10, 10, 60, 50, 5}), 7);
  REQUIRE(g.size() == 3);
  CHECK(g[0].members == std::vector<std::string>{"p1", "p2", "p3"});  // full by count
  CHECK(g[0].closed);
  CHECK(g[1].members == std::vector<std::string>{"p4"});  // p5 would take it past 100 bytes
  CHECK(g[1].closed);
  CHECK(g[2].members == std::vector<std::string>{"p5", "p6"});
  CHECK_FALSE(g[2].closed);
  CHECK(g[2].id == "g000003");
  CHECK(g[2].opened_unix_ms == 7);
  // Recorded groups keep their members; a new input joins the open group and fills it.
  auto again = assign_groups(ds, g, inputs({10, 10, 10, 60, 50, 5, 1}), 9);
  REQUIRE(again.size() == 3);
  CHECK(again[2].members == std::vector<std::string>{"p5", "p6", "p7"});
  CHECK(again[2].closed);
  CHECK(again[2].opened_unix_ms == 7);
  CHECK(group_fill(ds, again[2], true) == "3 of 3 files, 56.0 of 100.0 B");
}

TEST_CASE("group: assign_groups starts a new group after a closed one, whatever the order of new inputs") {
  Dataset ds;
  ds.group_max_count = 2;
  std::vector<Group> recorded = {{"g000001", {"p2"}, true, 1, 0, {}, false}};
  auto g = assign_groups(ds, recorded, inputs({1, 1, 1}), 5);
  REQUIRE(g.size() == 2);
  CHECK(g[0].members == std::vector<std::string>{"p2"});
  CHECK(g[1].members == std::vector<std::string>{"p1", "p3"});
}

}  // namespace
}  // namespace dbuild
