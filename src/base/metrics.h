#pragma once
/// Scoped timing metrics (`dbuild -d stats ...`): where the time of a command goes.
/// Recording is a no-op unless enabled. Thread-safe.
#include <chrono>
#include <cstdint>
#include <string>

namespace dbuild {

namespace metrics {
void enable();
bool enabled();
/// Adds one sample of `micros` to the metric `name` (a string literal).
void record(const char* name, int64_t micros);
/// The table of metrics: name, count, total and average time.
std::string report();
}  // namespace metrics

/// Times its own lifetime into a metric.
class ScopedMetric {
 public:
  explicit ScopedMetric(const char* name)
      : name_(name), start_(metrics::enabled() ? std::chrono::steady_clock::now()
                                               : std::chrono::steady_clock::time_point{}) {}
  ~ScopedMetric() {
    if (!metrics::enabled()) return;
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_);
    metrics::record(name_, us.count());
  }
  ScopedMetric(const ScopedMetric&) = delete;
  ScopedMetric& operator=(const ScopedMetric&) = delete;

 private:
  const char* name_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace dbuild
