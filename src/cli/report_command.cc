#include "cli/report_command.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "base/interrupt.h"
#include "cli/graph_commands.h"
#include "cli/json_output.h"
#include "cli/report_html.h"
#include "cli/state_commands.h"

namespace dbuild {
namespace {

using exec::ActionState;
using report::CellState;

constexpr size_t kRunsShown = 20;

/// The cell state of an action after a read-only plan, before waiting is known. Same split as
/// `dbuild status`: anything not stale is up to date; a stale action failed, is missing or is stale.
CellState base_state(const exec::ActionInfo& info) {
  if (info.state != ActionState::kStale) return CellState::kUpToDate;
  if (info.reasons & exec::kFailedBefore) return CellState::kFailed;
  if (info.reasons & exec::kNew) return CellState::kMissing;
  return CellState::kStale;
}

/// Marks stale and missing actions that read a failed one (directly or through other waiting
/// actions): they cannot be built until that failure is fixed. Passes until nothing changes,
/// because action ids need not follow the graph's order.
std::vector<uint8_t> find_waiting(const Session& s, const std::vector<CellState>& states) {
  std::vector<uint8_t> waiting(states.size(), 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (ActionId a = 0; a < states.size(); ++a) {
      if (waiting[a] || (states[a] != CellState::kStale && states[a] != CellState::kMissing)) continue;
      for (ActionId in : s.graph->inputs_of(a))
        if (states[in] == CellState::kFailed || waiting[in]) {
          waiting[a] = changed = true;
          break;
        }
    }
  }
  return waiting;
}

std::string first_line(const std::string& text) {
  size_t begin = text.find_first_not_of("\r\n \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find('\n', begin) - begin);
}

/// The last runs and the latest run id from the store (none when nothing was built).
Status add_runs(const Session& s, report::ReportData& data) {
  if (!s.store) return Status::Ok();
  auto txn = s.store->read();
  if (!txn.ok()) return txn.status();
  auto runs = txn->runs(kRunsShown);
  if (!runs.ok()) return runs.status();
  for (const auto& r : *runs) {
    report::RunView v{r.run_id, local_time(r.started_unix_ms),
                      r.finished_unix_ms ? r.finished_unix_ms - r.started_unix_ms : -1,
                      run_outcome(r), r.command_line, r.counts.ran, r.counts.up_to_date, r.counts.cut_off,
                      r.counts.failed};
    data.runs.push_back(std::move(v));
  }
  if (!runs->empty()) data.latest_run = runs->front().run_id;
  return Status::Ok();
}

/// The failed partitions with their last log.
Status add_failures(const Session& s, const std::vector<CellState>& states, report::ReportData& data) {
  if (!s.store) return Status::Ok();
  auto txn = s.store->read();
  if (!txn.ok()) return txn.status();
  for (ActionId a = 0; a < states.size(); ++a) {
    if (!s.targets[a] || states[a] != CellState::kFailed) continue;
    const Dataset& ds = s.fe.model.datasets[s.graph->dataset_of(a)];
    auto log = txn->latest_log(ds.name, s.graph->partition_text(a));
    if (!log.ok()) return log.status();
    std::string text = *log ? (*log)->text : "";
    data.failures.push_back({s.graph->label(a), text.empty() ? "no log kept" : first_line(text), text});
  }
  return Status::Ok();
}

/// Everything the page shows, planned as `dbuild status` plans. Prints what goes wrong and
/// returns the exit code, or 0.
int collect(const CommonOptions& common, report::ReportData& data) {
  Session s;
  if (int rc = open_session(common, SelectOptions{}, Access::kReadOnly, "", s)) return rc;
  exec::Evaluator ev(*s.graph, s.store.get(), *s.engines);
  if (Status st = ev.plan(s.selected, false); !st.ok()) {
    print_error(s, st.message());
    return 1;
  }
  data.workspace = s.fe.model.root;
  for (const auto& ds : s.fe.model.datasets) {
    report::DatasetView v;
    v.name = ds.name;
    v.source = ds.is_source();
    for (const auto& k : ds.keys) v.keys.push_back(k.type);
    for (const auto& in : ds.inputs) v.inputs.push_back(in.dataset);
    data.datasets.push_back(std::move(v));
  }
  std::vector<CellState> states(s.graph->size(), CellState::kUpToDate);
  for (ActionId a = 0; a < s.graph->size(); ++a) states[a] = base_state(ev.info()[a]);
  auto waiting = find_waiting(s, states);
  for (ActionId a = 0; a < s.graph->size(); ++a) {
    if (!s.targets[a]) continue;
    report::DatasetView& v = data.datasets[s.graph->dataset_of(a)];
    const auto& info = ev.info()[a];
    ++v.total;
    switch (states[a]) {
      case CellState::kUpToDate: ++v.up_to_date; break;
      case CellState::kFailed: ++v.failed; break;
      case CellState::kMissing: ++v.missing; break;
      default: ++v.stale; break;
    }
    std::string part = s.graph->partition_text(a);
    std::string reason = states[a] == CellState::kUpToDate ? "up to date"
                                                            : "stale: " + reasons_in_words(s, a, info.reasons);
    if (waiting[a]) reason += "; waiting for a failed input";
    v.cells.push_back({part, waiting[a] ? CellState::kWaiting : states[a],
                       (part.empty() ? v.name : part) + ": " + reason});
  }
  Status st = add_runs(s, data);
  if (st.ok()) st = add_failures(s, states, data);
  if (!st.ok()) {
    print_error(s, st.message(), error_code::kStateError);
    return 1;
  }
  return 0;
}

/// The latest run id, read straight from the state (no rules loaded): what /version answers.
uint64_t latest_run(const CommonOptions& common) {
  auto root = find_workspace_root(common.dir);
  if (!root.ok()) return 0;
  auto opened = StateStore::open(*root + "/.dbuild/state", StateStore::OpenMode::kReadOnly);
  if (!opened.ok() || opened->condition != StateStore::Condition::kUsable) return 0;
  auto txn = opened->store->read();
  if (!txn.ok()) return 0;
  auto runs = txn->runs(1);
  return runs.ok() && !runs->empty() ? runs->front().run_id : 0;
}

void send_all(int fd, const std::string& bytes) {
  for (size_t at = 0; at < bytes.size();) {
    ssize_t n = ::send(fd, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client went away: nothing to tell it
    at += static_cast<size_t>(n);
  }
}

void respond(int fd, int code, const char* reason, const char* type, const std::string& body, bool head) {
  send_all(fd, fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n"
                           "Connection: close\r\n\r\n{}",
                           code, reason, type, body.size(), head ? "" : body));
}

/// Reads the request head (up to 16 KiB, 5 s) and answers GET or HEAD of / and /version.
void handle(int fd, const CommonOptions& common) {
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string request;
  char buf[4096];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 16384) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    request.append(buf, static_cast<size_t>(n));
  }
  std::string line = request.substr(0, request.find("\r\n"));
  size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 == std::string::npos ? 0 : sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos)
    return respond(fd, 400, "Bad Request", "text/plain", "bad request\n", false);
  std::string method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  bool head = method == "HEAD";
  if (method != "GET" && !head) return respond(fd, 405, "Method Not Allowed", "text/plain", "GET only\n", false);
  if (target == "/version")
    return respond(fd, 200, "OK", "application/json", fmt::format("{{\"run\":{}}}\n", latest_run(common)), head);
  if (target != "/") return respond(fd, 404, "Not Found", "text/plain", "not found: / and /version only\n", head);
  report::ReportData data;
  data.live = true;
  if (collect(common, data) != 0)
    return respond(fd, 500, "Internal Server Error", "text/plain",
                   "dbuild could not plan the workspace: see the terminal running `dbuild serve`\n", head);
  respond(fd, 200, "OK", "text/html; charset=utf-8", report::render_page(data), head);
}

/// A listening socket on host:port; -1 after printing why not.
int listen_on(const ServeOptions& o, int& port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  if (inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1) {
    fmt::print(stderr, "dbuild: error: --host {}: expected an IPv4 address such as 127.0.0.1\n", o.host);
    return -1;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    fmt::print(stderr, "dbuild: error: cannot listen on {}:{}: {}\n  hint: pick another port with --port N "
                       "(--port 0 picks a free one)\n", o.host, o.port, std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return -1;
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

int cmd_report(const CommonOptions& common, const std::string& output) {
  report::ReportData data;
  if (int rc = collect(common, data)) return rc;
  std::string page = report::render_page(data);
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  out << page;
  out.close();
  if (!out) {
    fmt::print(stderr, "dbuild: error: cannot write {}: {}\n  hint: give a writable path with -o FILE\n", output,
               std::strerror(errno));
    return 1;
  }
  size_t partitions = 0;
  for (const auto& d : data.datasets) partitions += d.total;
  fmt::print("wrote {}: {} datasets, {} partitions, {} failed\n", output, data.datasets.size(), partitions,
             data.failures.size());
  return 0;
}

int cmd_serve(const CommonOptions& common, const ServeOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    fmt::print(stderr, "dbuild: error: --port {}: expected 0 to 65535\n", options.port);
    return 64;
  }
  int port = 0;
  int fd = listen_on(options, port);
  if (fd < 0) return 1;
  install_interrupt_handlers();  // SIGINT/SIGTERM end the loop below between requests
  fmt::print("serving the report on http://{}:{}/ (Ctrl-C stops)\n", options.host, port);
  std::fflush(stdout);
  while (!interrupt_signal()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    int client = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    handle(client, common);
    ::close(client);
  }
  ::close(fd);
  fmt::print("stopped\n");
  return 0;
}

}  // namespace dbuild
