#include "base/interrupt.h"

#include <signal.h>

#include <atomic>

namespace dbuild {
namespace {

constexpr int kMaxChildren = 256;
std::atomic<int> g_signal{0};
std::atomic<pid_t> g_children[kMaxChildren];  // 0: free slot
std::atomic<bool> g_installed{false};

void forward(int sig) {
  for (auto& child : g_children) {
    pid_t pgid = child.load();
    if (pgid > 0) ::kill(-pgid, sig);
  }
}

extern "C" void on_signal(int sig) {
  int expected = 0;
  if (!g_signal.compare_exchange_strong(expected, sig)) {
    // A second request: stop now, the way the signal would without a handler.
    ::signal(sig, SIG_DFL);
    ::raise(sig);
    return;
  }
  forward(sig);
}

}  // namespace

void install_interrupt_handlers() {
  if (g_installed.exchange(true)) return;
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

int interrupt_signal() { return g_signal.load(); }

void request_interrupt(int signal) {
  int expected = 0;
  if (g_signal.compare_exchange_strong(expected, signal)) forward(signal);
}

void clear_interrupt() { g_signal.store(0); }

int register_child_group(pid_t pgid) {
  for (int i = 0; i < kMaxChildren; ++i) {
    pid_t expected = 0;
    if (g_children[i].compare_exchange_strong(expected, pgid)) {
      // A signal that came just before registration would have missed this child.
      if (g_signal.load() != 0) ::kill(-pgid, g_signal.load());
      return i;
    }
  }
  return -1;
}

void unregister_child_group(int slot) {
  if (slot >= 0 && slot < kMaxChildren) g_children[slot].store(0);
}

}  // namespace dbuild
