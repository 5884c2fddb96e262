#include "base/metrics.h"

#include <atomic>
#include <mutex>
#include <vector>

#include <fmt/format.h>

namespace dbuild::metrics {
namespace {

struct Metric {
  const char* name;
  int64_t count = 0;
  int64_t micros = 0;
};

std::atomic<bool> g_enabled{false};
std::mutex g_mu;
std::vector<Metric>& table() {
  static std::vector<Metric> t;
  return t;
}

}  // namespace

void enable() { g_enabled = true; }
bool enabled() { return g_enabled.load(std::memory_order_relaxed); }

void record(const char* name, int64_t micros) {
  std::lock_guard<std::mutex> lock(g_mu);
  for (auto& m : table())
    if (m.name == name) {
      ++m.count;
      m.micros += micros;
      return;
    }
  table().push_back({name, 1, micros});
}

std::string report() {
  std::lock_guard<std::mutex> lock(g_mu);
  std::string out = fmt::format("{:<28} {:>8} {:>12} {:>10}\n", "metric", "count", "total (ms)", "avg (us)");
  for (const auto& m : table())
    out += fmt::format("{:<28} {:>8} {:>12.1f} {:>10.1f}\n", m.name, m.count, m.micros / 1000.0,
                       static_cast<double>(m.micros) / static_cast<double>(m.count));
  return out;
}

}  // namespace dbuild::metrics
