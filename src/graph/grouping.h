#pragma once
/// Grouping (docs/language.md section 14): a grouped table gathers the partitions of its first
/// input into groups, one output partition each, keyed by the string `group` ("g000001", ...).
///
/// Contract:
///   - Input partitions join groups in the input's partition order; a partition already in a
///     group never moves. New ones join the last group while it is open, else a new group.
///   - A group closes when it is full: `max_count` members, or `max_size` bytes (file sizes;
///     a member that would push an open group past `max_size` starts the next group instead),
///     or `complete_at` members. `dbuild flush` closes the open group with what it holds. A
///     closed group never changes again, so its output is never rewritten by late inputs.
///   - Only the last group can be open. An open group waits: it is no partition of the graph,
///     so nothing builds or reads it; `plan` and `status` report it with its fill.
///   - The groups are remembered by the caller (the state store's meta "groups" records) and
///     passed back in; assign_groups() is a pure function of what it is given.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/model.h"

namespace dbuild {

/// One group of a grouped table.
struct Group {
  std::string id;                    // the output partition's `group` value
  std::vector<std::string> members;  // partition texts of the grouped input, in joining order
  bool closed = false;
  int64_t opened_unix_ms = 0;        // when its first member joined
  // Filled from the current graph (not remembered):
  uint64_t bytes = 0;                     // file bytes of the members present now
  std::vector<uint32_t> present;          // the members' partition indices in the input
  bool flushed = false;                   // closed by this run's flush
};

/// An input partition as grouping sees it.
struct GroupInput {
  std::string text;    // partition text
  uint64_t bytes = 0;  // file size (file sources); 0 otherwise
};

/// The recorded groups of every grouped table, by table name, and what to do with them now.
struct GroupBook {
  std::map<std::string, std::vector<Group>, std::less<>> recorded;
  int64_t now_unix_ms = 0;  // opened_unix_ms of groups started now
  /// `dbuild flush TABLE [--group ID]`: close TABLE's open group (only if its id is ID, when
  /// ID is given).
  std::string flush_table;
  std::string flush_group;
};

/// "g000001" for n = 1.
std::string group_id(size_t n);

/// The groups of `ds` after every input partition not yet in a group has joined one.
/// `groups` are the recorded ones; `inputs` the grouped input's partitions, in order.
std::vector<Group> assign_groups(const Dataset& ds, std::vector<Group> groups, const std::vector<GroupInput>& inputs,
                                 int64_t now_unix_ms);

/// "7 of 10 files, 38 of 100 MB": how full an open group is. `files`: the input is a file source.
std::string group_fill(const Dataset& ds, const Group& g, bool files);

}  // namespace dbuild
