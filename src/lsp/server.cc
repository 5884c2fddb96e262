#include "lsp/server.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <unistd.h>

#include "checking/query_check.h"
#include "eval/engine_lister.h"
#include "format/formatter.h"
#include "graph/action_graph.h"
#include "lsp/analysis.h"
#include "lsp/document.h"
#include "lsp/features.h"
#include "lsp/framing.h"
#include "model/model_builder.h"
#include "state/state_store.h"
#include "syntax/rules_parser.h"

namespace fs = std::filesystem;

namespace dbuild::lsp {
namespace {

using Clock = std::chrono::steady_clock;

// JSON-RPC and LSP error codes.
constexpr int kParseError = -32700, kInvalidRequest = -32600, kMethodNotFound = -32601, kInvalidParams = -32602,
              kServerNotInitialized = -32002, kRequestFailed = -32803;

/// An error reply that the request thread turns into a response.
struct RequestError {
  int code;
  std::string message;
};

Position position_param(const json& params) {
  const json& p = params.at("position");
  auto get = [](const json& v) { return v.is_number_unsigned() ? v.get<uint32_t>() : 0u; };
  return Position{get(p.at("line")), get(p.at("character"))};
}

/// One parsed AST with its diagnostics, reused while its file keeps its text and id.
struct CachedAst {
  FileId id = kNoFile;
  std::string text;
  ast::File ast;
  std::vector<Diagnostic> diags;
};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  std::function<void(const std::string&)> send_raw;
  std::mutex send_mu;

  // ---- request thread state ----
  bool initialized = false;
  bool shutdown = false;
  std::atomic<bool> exited{false};
  std::optional<std::string> root;  // the workspace root; unset: no workspace.dbuild found
  bool told_no_workspace = false;
  std::map<std::string, std::unique_ptr<Document>> docs;  // absolute path -> open document
  std::map<std::string, CachedAst> ast_cache;             // absolute path -> last parse
  struct CachedCounts {
    Clock::time_point at;
    std::string text;
  };
  std::map<std::string, CachedCounts> counts_cache;

  // ---- shared with the worker (under mu) ----
  std::mutex mu;
  std::condition_variable cv;
  std::shared_ptr<const Snapshot> snapshot;
  uint64_t generation = 0;
  std::shared_ptr<const Snapshot> pending;  // for the SQL pass
  uint64_t pending_generation = 0;
  Clock::time_point deadline;
  bool stop = false;
  Diagnostics sql_diags;      // of `generation`
  std::map<std::string, size_t> partition_totals;  // dataset -> partitions in the graph
  std::set<std::string> published;  // URIs published last time
  std::set<std::string> open_uris;  // of the open documents, for the worker's publishing
  std::thread worker;

  Impl(ServerOptions o, std::function<void(const std::string&)> s)
      : options(std::move(o)), send_raw(std::move(s)) {
    worker = std::thread([this] { work(); });
  }
  ~Impl() {
    {
      std::lock_guard lk(mu);
      stop = true;
    }
    cv.notify_all();
    worker.join();
  }

  void send(const json& msg) {
    std::string body = msg.dump(-1, ' ', false, json::error_handler_t::replace);
    std::lock_guard lk(send_mu);
    send_raw(body);
  }
  void reply(const json& id, json result) { send({{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}); }
  void reply_error(const json& id, int code, const std::string& message) {
    send({{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}});
  }
  void notify(const std::string& method, json params) {
    send({{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}});
  }
  void show_message(int type, const std::string& text) { notify("window/showMessage", {{"type", type}, {"message", text}}); }

  // ---- dispatch ----
  void handle(const std::string& body) {
    json msg = json::parse(body, nullptr, false);
    if (msg.is_discarded() || !msg.is_object()) {
      reply_error(nullptr, msg.is_discarded() ? kParseError : kInvalidRequest,
                  msg.is_discarded() ? "the message is not valid JSON" : "a message must be a JSON object");
      return;
    }
    bool is_request = msg.contains("id") && (msg["id"].is_number() || msg["id"].is_string());
    if (!msg.contains("method") || !msg["method"].is_string()) {
      if (!is_request || msg.contains("result") || msg.contains("error")) return;  // a response to us
      reply_error(msg["id"], kInvalidRequest, "a request needs a `method` string");
      return;
    }
    std::string method = msg["method"];
    json params = msg.contains("params") ? msg["params"] : json::object();
    if (!is_request) {
      try {
        notification(method, params);
      } catch (const std::exception& e) {
        notify("window/logMessage", {{"type", 1}, {"message", fmt::format("{}: bad params: {}", method, e.what())}});
      }
      return;
    }
    json id = msg["id"];
    if (!initialized && method != "initialize") return reply_error(id, kServerNotInitialized, "initialize first");
    if (shutdown) return reply_error(id, kInvalidRequest, "the server is shutting down");
    try {
      auto result = request(method, params);
      if (result) reply(id, std::move(*result));
    } catch (const RequestError& e) {
      reply_error(id, e.code, e.message);
    } catch (const json::exception& e) {
      reply_error(id, kInvalidParams, fmt::format("bad params for {}: {}", method, e.what()));
    } catch (const std::exception& e) {
      reply_error(id, kRequestFailed, fmt::format("{} failed: {}", method, e.what()));
    }
  }

  /// The result of a request; nullopt when the method is unknown (replied here).
  std::optional<json> request(const std::string& method, const json& params) {
    if (method == "initialize") return initialize(params);
    if (method == "shutdown") {
      shutdown = true;
      return json(nullptr);
    }
    if (method == "textDocument/hover") return hover(params);
    if (method == "textDocument/definition") return at_position(params, [&](auto& s, auto& loc, FileId f, uint32_t off) {
      return definition(s, loc, f, off);
    });
    if (method == "textDocument/references") {
      bool decl = params.contains("context") && params["context"].value("includeDeclaration", true);
      return at_position(params, [&](auto& s, auto& loc, FileId f, uint32_t off) {
        return references(s, loc, f, off, decl);
      });
    }
    if (method == "textDocument/completion") return complete(params);
    if (method == "textDocument/documentSymbol") return symbols(params);
    if (method == "textDocument/formatting") return format_document(params);
    if (method == "textDocument/prepareRename")
      return at_position(params, [&](auto& s, auto& loc, FileId f, uint32_t off) -> json {
        auto r = prepare_rename(s, loc, f, off);
        if (!r.ok()) throw RequestError{kRequestFailed, r.status().message()};
        return *r;
      });
    if (method == "textDocument/rename") {
      std::string new_name = params.at("newName").get<std::string>();
      return at_position(params, [&](auto& s, auto& loc, FileId f, uint32_t off) -> json {
        auto r = rename(s, loc, f, off, new_name);
        if (!r.ok()) throw RequestError{kRequestFailed, r.status().message()};
        return *r;
      });
    }
    throw RequestError{kMethodNotFound, fmt::format("unknown method {}", method)};
  }

  void notification(const std::string& method, const json& params) {
    if (method == "exit") {
      exited = true;
      return;
    }
    if (!initialized) return;
    if (method == "initialized") return refresh();
    if (method == "textDocument/didOpen") return did_open(params.at("textDocument"));
    if (method == "textDocument/didChange") return did_change(params);
    if (method == "textDocument/didClose") return did_close(params.at("textDocument"));
    if (method == "textDocument/didSave" || method == "workspace/didChangeWatchedFiles") return refresh();
    // Everything else ($/cancelRequest, $/setTrace, configuration...) needs nothing from us.
  }

  // ---- lifecycle ----
  json initialize(const json& params) {
    std::string dir;
    if (params.contains("rootUri") && params["rootUri"].is_string())
      dir = uri_to_path(params["rootUri"].get<std::string>()).value_or("");
    if (dir.empty() && params.contains("rootPath") && params["rootPath"].is_string()) dir = params["rootPath"];
    if (dir.empty() && params.contains("workspaceFolders") && params["workspaceFolders"].is_array() &&
        !params["workspaceFolders"].empty())
      dir = uri_to_path(params["workspaceFolders"][0].value("uri", "")).value_or("");
    if (!dir.empty()) find_root(dir);
    initialized = true;
    return {{"capabilities",
             {{"positionEncoding", "utf-16"},
              {"textDocumentSync", {{"openClose", true}, {"change", 2}, {"save", {{"includeText", false}}}}},
              {"hoverProvider", true},
              {"definitionProvider", true},
              {"referencesProvider", true},
              {"completionProvider", {{"triggerCharacters", {".", " ", "{", "["}}}},
              {"documentSymbolProvider", true},
              {"documentFormattingProvider", true},
              {"renameProvider", {{"prepareProvider", true}}}}},
            {"serverInfo", {{"name", "dbuild"}, {"version", "0.1.0"}}}};
  }

  void find_root(const std::string& dir) {
    if (root) return;
    auto r = find_workspace_root(dir);
    if (r.ok()) root = *r;
  }

  // ---- documents ----
  void did_open(const json& td) {
    auto path = uri_to_path(td.at("uri").get<std::string>());
    if (!path) return;
    auto doc = std::make_unique<Document>(td.at("text").get<std::string>(), td.value("version", int64_t{0}));
    docs[*path] = std::move(doc);
    find_root(fs::path(*path).parent_path().string());
    refresh();
  }

  void did_change(const json& params) {
    const json& td = params.at("textDocument");
    auto path = uri_to_path(td.at("uri").get<std::string>());
    if (!path) return;
    auto it = docs.find(*path);
    if (it == docs.end()) return;  // never opened: nothing to apply the edit to
    Document& doc = *it->second;
    for (const json& c : params.at("contentChanges")) {
      std::optional<Range> range;
      if (c.contains("range")) {
        const json& r = c["range"];
        range = Range{position_param({{"position", r.at("start")}}), position_param({{"position", r.at("end")}})};
      }
      doc.apply_change(range, c.at("text").get<std::string>());
    }
    doc.parse();
    doc.set_version(td.value("version", doc.version() + 1));
    refresh();
  }

  void did_close(const json& td) {
    auto path = uri_to_path(td.at("uri").get<std::string>());
    if (!path) return;
    docs.erase(*path);
    refresh();
  }

  // ---- analysis ----
  ast::File parse_cached(const std::string& abs, const SourceFiles& files, FileId id, Diagnostics& diags) {
    CachedAst& c = ast_cache[abs];
    std::string_view text = files.text(id);
    if (c.id != id || c.text != text) {
      Diagnostics local;
      auto doc = docs.find(abs);
      c.ast = doc != docs.end() && doc->second->text() == text
                  ? build_rules_ast(files, id, doc->second->tree(), local)  // the incremental tree
                  : parse_rules(files, id, local);
      c.id = id;
      c.text = std::string(text);
      c.diags = local.items();
    }
    for (const auto& d : c.diags) diags.add(d);
    return c.ast;
  }

  std::shared_ptr<Snapshot> analyze() {
    auto snap = std::make_shared<Snapshot>();
    snap->ws = std::make_unique<Workspace>();
    auto parse = [this](const std::string& abs, const SourceFiles& files, FileId id, Diagnostics& diags) {
      return parse_cached(abs, files, id, diags);
    };
    if (root) {
      WorkspaceLoadOptions lo;
      for (const auto& [path, doc] : docs) lo.overrides[path] = doc->text();
      lo.parse = parse;
      load_workspace(*root, *snap->ws, snap->diags, lo);
      snap->model = build_model(*snap->ws, ModelOptions{}, snap->diags);
      snap->model_ok = !snap->diags.has_errors();
    } else {  // no workspace: each open rule file on its own, syntax only
      for (const auto& [path, doc] : docs) {
        if (!path.ends_with(".dbuild")) continue;
        FileId id = snap->ws->files.add(path, doc->text());
        snap->ws->asts.push_back(parse(path, snap->ws->files, id, snap->diags));
        snap->ws->imported.push_back(false);
      }
    }
    snap->diags.sort();
    index_occurrences(*snap);
    return snap;
  }

  /// Rebuilds the snapshot from the open documents and the disk, publishes its diagnostics,
  /// and schedules the SQL pass.
  void refresh() {
    if (!root && !docs.empty() && !told_no_workspace) {
      told_no_workspace = true;
      show_message(2, fmt::format("dbuild: no {} found above the open files: only syntax is checked; create one at "
                                  "the root of your pipeline for the rest",
                                  kWorkspaceFile));
    }
    std::shared_ptr<const Snapshot> snap = analyze();
    std::set<std::string> uris;
    for (const auto& [path, doc] : docs) uris.insert(path_to_uri(path));
    std::lock_guard lk(mu);
    open_uris = std::move(uris);
    snapshot = snap;
    ++generation;
    sql_diags = Diagnostics();
    publish_locked(*snap, nullptr);
    if (snap->model_ok && options.open_engines) {
      pending = snap;
      pending_generation = generation;
      deadline = Clock::now() + std::chrono::milliseconds(options.sql_delay_ms);
      cv.notify_all();
    }
  }

  /// The hint is in the message (every client shows that) and also related information at
  /// the same place (clients that list related information show it as its own line).
  json diagnostic_json(Locator& loc, const Diagnostic& d) {
    std::string message = d.message;
    json range = loc.range(d.span.file, d.span.begin, d.span.end);
    json out = {{"range", range}, {"severity", d.severity == Severity::Error ? 1 : 2}, {"source", "dbuild"}};
    if (!d.hint.empty()) {
      message += "\nhint: " + d.hint;
      out["relatedInformation"] = json::array(
          {{{"location", {{"uri", loc.uri(d.span.file)}, {"range", range}}}, {"message", "hint: " + d.hint}}});
    }
    out["message"] = message;
    return out;
  }

  /// Publishes every file's diagnostics, and empty lists for files that had some before.
  /// REQUIRES: mu held (so the request thread and the worker publish in order).
  void publish_locked(const Snapshot& snap, const Diagnostics* extra) {
    Locator loc(snap);
    std::map<std::string, json> by_uri;
    std::optional<FileId> marker = root ? snap.file_of(*root + "/" + kWorkspaceFile) : std::nullopt;
    auto add = [&](const Diagnostic& d) {
      Diagnostic placed = d;
      if (placed.span.file == kNoFile) {  // no location (an unreadable file): on the root marker
        if (!marker) return;
        placed.span = Span{*marker, 0, 0};
      }
      std::string uri = loc.uri(placed.span.file);
      by_uri[uri].push_back(diagnostic_json(loc, placed));
    };
    for (const auto& d : snap.diags.items()) add(d);
    if (extra)
      for (const auto& d : extra->items()) add(d);
    // Open documents always get a list, empty or not: the editor learns its edit was checked.
    for (const auto& uri : open_uris) by_uri.emplace(uri, json::array());
    std::set<std::string> now;
    for (auto& [uri, list] : by_uri) {
      notify("textDocument/publishDiagnostics", {{"uri", uri}, {"diagnostics", list}});
      now.insert(uri);
    }
    for (const auto& uri : published)
      if (!now.count(uri)) notify("textDocument/publishDiagnostics", {{"uri", uri}, {"diagnostics", json::array()}});
    published = std::move(now);
  }

  // ---- the worker: SQL pass and partition totals ----
  void work() {
    std::unique_lock lk(mu);
    while (true) {
      cv.wait(lk, [&] { return stop || pending; });
      if (stop) return;
      while (!stop && pending && Clock::now() < deadline) cv.wait_until(lk, deadline);  // debounce
      if (stop) return;
      if (!pending) continue;
      auto snap = std::move(pending);
      uint64_t gen = pending_generation;
      lk.unlock();
      Diagnostics sql;
      std::map<std::string, size_t> totals;
      try {
        sql_pass(*snap, sql, totals);
      } catch (const std::exception& e) {
        sql.error(Span{}, fmt::format("the SQL check failed: {}", e.what()));
      }
      sql.sort();
      lk.lock();
      if (gen != generation) continue;  // edited meanwhile: a newer pass is scheduled
      sql_diags = std::move(sql);
      if (!totals.empty()) partition_totals = std::move(totals);
      if (!sql_diags.items().empty()) publish_locked(*snap, &sql_diags);
    }
  }

  void sql_pass(const Snapshot& snap, Diagnostics& sql, std::map<std::string, size_t>& totals) {
    auto engines = options.open_engines(snap.model);
    if (!engines) return;
    exec::check_queries(snap.model, *engines, sql);
    exec::EngineLister lister(*engines, snap.model);
    auto graph = build_action_graph(snap.model, lister);
    if (!graph.ok()) return;
    for (DatasetId d = 0; d < snap.model.datasets.size(); ++d)
      totals[snap.model.datasets[d].name] = graph->first_action[d + 1] - graph->first_action[d];
  }

  // ---- requests over the snapshot ----
  std::shared_ptr<const Snapshot> current() {
    std::lock_guard lk(mu);
    return snapshot;
  }

  template <typename F>
  json at_position(const json& params, F f) {
    auto snap = current();
    auto path = uri_to_path(params.at("textDocument").at("uri").get<std::string>());
    if (!snap || !path) return nullptr;
    auto file = snap->file_of(*path);
    if (!file) return nullptr;
    Locator loc(*snap);
    uint32_t offset = loc.offset(*file, position_param(params));
    return f(*snap, loc, *file, offset);
  }

  json hover(const json& params) {
    return at_position(params, [&](const Snapshot& s, Locator& loc, FileId f, uint32_t off) -> json {
      const Occurrence* o = s.at(f, off);
      if (!o) return nullptr;
      std::string text = hover_text(s, *o, [&](const Dataset& ds) { return counts(ds); });
      if (text.empty()) return nullptr;
      return {{"contents", {{"kind", "markdown"}, {"value", text}}}, {"range", loc.range(f, o->begin, o->end)}};
    });
  }

  json complete(const json& params) {
    return at_position(params, [&](const Snapshot& s, Locator& loc, FileId f, uint32_t off) -> json {
      (void)loc;
      return json{{"isIncomplete", false}, {"items", completion(s, f, off, s.ws->files.text(f))}};
    });
  }

  json symbols(const json& params) {
    auto snap = current();
    auto path = uri_to_path(params.at("textDocument").at("uri").get<std::string>());
    if (!snap || !path) return json::array();
    auto file = snap->file_of(*path);
    if (!file) return json::array();
    Locator loc(*snap);
    return document_symbols(*snap, loc, *file);
  }

  /// The whole document in the canonical layout (`dbuild fmt`): one edit replacing it, none
  /// when it is formatted already. A document that does not parse is refused with the first
  /// syntax error; its text is never touched.
  json format_document(const json& params) {
    auto path = uri_to_path(params.at("textDocument").at("uri").get<std::string>());
    if (!path) throw RequestError{kInvalidParams, "formatting needs a file: URI"};
    std::string text;
    if (auto doc = docs.find(*path); doc != docs.end()) {
      text = doc->second->text();
    } else {
      auto read = read_file(*path);
      if (!read.ok()) throw RequestError{kRequestFailed, read.status().message()};
      text = std::move(*read);
    }
    std::string shown = root ? fs::relative(*path, *root).string() : *path;
    auto formatted = format_rules(text, shown);
    if (!formatted.ok()) throw RequestError{kRequestFailed, formatted.status().message()};
    if (*formatted == text) return json::array();
    TextIndex index(text);
    Position end = index.position_of(static_cast<uint32_t>(text.size()));
    return json::array({{{"range", {{"start", {{"line", 0}, {"character", 0}}},
                                    {"end", {{"line", end.line}, {"character", end.character}}}}},
                         {"newText", *formatted}}});
  }

  /// "12 partitions: 10 built, 1 failed, 1 never built", from the state store (opened
  /// read-only for each count, so a build beside the editor is never disturbed) and the
  /// graph's partition total from the last SQL pass. Cached per dataset for a few seconds.
  std::string counts(const Dataset& ds) {
    auto now = Clock::now();
    auto& c = counts_cache[ds.name];
    if (c.at != Clock::time_point() && now - c.at < std::chrono::milliseconds(options.counts_ttl_ms)) return c.text;
    std::optional<size_t> total;
    {
      std::lock_guard lk(mu);
      auto it = partition_totals.find(ds.name);
      if (it != partition_totals.end()) total = it->second;
    }
    size_t built = 0, failed = 0, in_flight = 0;
    bool have_state = false;
    if (root) {
      StateStoreOptions so;
      so.check_records = false;  // a hover reads a few records; damage is `dbuild verify`'s job
      auto opened = StateStore::open(*root + "/.dbuild/state", StateStore::OpenMode::kReadOnly, so);
      if (opened.ok() && opened->condition == StateStore::Condition::kUsable) {
        auto txn = opened->store->read();
        if (txn.ok()) {
          have_state = txn->for_each_partition_of(ds.name, [&](std::string_view, std::string_view, const PartitionRecord& r) {
            if (r.status == PartitionStatus::kBuiltOk) ++built;
            else if (r.status == PartitionStatus::kFailed) ++failed;
            else ++in_flight;
          }).ok();
        }
      }
    }
    std::string text;
    size_t recorded = built + failed + in_flight;
    if (total) {
      text = fmt::format("{} partition{}: {} built", *total, *total == 1 ? "" : "s", built);
      if (failed) text += fmt::format(", {} failed", failed);
      if (in_flight) text += fmt::format(", {} in flight", in_flight);
      if (*total > recorded) text += fmt::format(", {} never built", *total - recorded);
    } else if (have_state) {
      text = fmt::format("partitions recorded: {} built, {} failed, {} in flight", built, failed, in_flight);
    } else {
      text = "never built";
    }
    c = CachedCounts{now, text};
    return text;
  }
};

Server::Server(ServerOptions options, std::function<void(const std::string&)> send)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(send))) {}
Server::~Server() = default;
void Server::handle(const std::string& body) { impl_->handle(body); }
void Server::framing_error(const std::string& message) {
  impl_->reply_error(nullptr, kParseError, fmt::format("bad message framing: {}", message));
}
bool Server::exited() const { return impl_->exited; }
int Server::exit_code() const { return impl_->shutdown ? 0 : 1; }

int run_stdio(const ServerOptions& options, int in_fd, int out_fd) {
  std::signal(SIGPIPE, SIG_IGN);  // a client that went away makes write() fail, not kill us
  std::atomic<bool> out_closed{false};
  Server server(options, [&](const std::string& body) {
    std::string msg = frame(body);
    size_t done = 0;
    while (done < msg.size() && !out_closed) {
      ssize_t n = ::write(out_fd, msg.data() + done, msg.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) out_closed = true;
      else done += static_cast<size_t>(n);
    }
  });
  MessageReader reader;
  char buf[65536];
  while (!server.exited() && !out_closed) {
    ssize_t n = ::read(in_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the client closed its end without `exit`
    reader.feed(std::string_view(buf, static_cast<size_t>(n)));
    while (!server.exited()) {
      auto m = reader.next();
      if (!m) break;
      if (m->ok()) server.handle(**m);
      else server.framing_error(m->status().message());
    }
  }
  return server.exited() ? server.exit_code() : 1;
}

}  // namespace dbuild::lsp
