#pragma once
/// Executors: which executor runs each command table of a build (`executor = local | slurm`, a
/// workspace's default, `--executor`). The caller (the command line) creates them; the
/// evaluator only starts jobs on them, and knows none by name.
#include <memory>
#include <vector>

#include "executor/executor.h"
#include "model/model.h"

namespace dbuild::exec {

class Executors {
 public:
  /// Takes `e` and returns it, for assign().
  Executor* add(std::unique_ptr<Executor> e) {
    owned_.push_back(std::move(e));
    return owned_.back().get();
  }
  /// Command tables not assigned run on `e`.
  void set_default(Executor* e) { default_ = e; }
  void assign(DatasetId ds, Executor* e) {
    if (by_dataset_.size() <= ds) by_dataset_.resize(ds + 1, nullptr);
    by_dataset_[ds] = e;
  }
  /// The executor of command table `ds` (null only when none was set).
  Executor* of(DatasetId ds) const {
    return ds < by_dataset_.size() && by_dataset_[ds] ? by_dataset_[ds] : default_;
  }
  const std::vector<std::unique_ptr<Executor>>& all() const { return owned_; }
  void abort_all() const {
    for (const auto& e : owned_) e->abort_all();
  }

 private:
  std::vector<std::unique_ptr<Executor>> owned_;
  std::vector<Executor*> by_dataset_;
  Executor* default_ = nullptr;
};

}  // namespace dbuild::exec
