#pragma once
/// `dbuild lsp`: a Language Server Protocol 3.17 server for rule files, over stdin/stdout.
///
/// What it offers: incremental text sync (open buffers win over files on disk), diagnostics
/// of the whole workspace on every change (syntax and model at once; SQL prepare errors from
/// the engines ~300 ms after the last change, on a worker thread), hover on datasets (kind,
/// keys, columns, inputs with mappings, engine, partition counts from the state store),
/// definition and references (SQL text and `.sql` files included), completion, document
/// symbols and rename of datasets across files. Positions are UTF-16 code units.
///
/// Robustness contract: no input makes the server crash or hang. Malformed JSON gets a
/// ParseError reply, unknown requests MethodNotFound, unknown notifications are ignored, bad
/// params get InvalidParams, positions are clamped, edits to unknown documents are ignored,
/// and a folder without workspace.dbuild still gets syntax diagnostics for open documents.
///
/// Threads: requests and notifications are handled one at a time on the calling thread; the
/// SQL pass and the partition count run on one worker thread and never block a request.
#include <functional>
#include <memory>
#include <string>

#include "eval/engines.h"
#include "model/model.h"

namespace dbuild::lsp {

struct ServerOptions {
  /// Opens the engines of a model for the SQL pass and for listing table sources (the command
  /// line knows engines by name; this stage does not). Unset: no SQL pass, counts from the
  /// state store only.
  std::function<std::unique_ptr<exec::Engines>(const Model&)> open_engines;
  /// Quiet time after the last change before the SQL pass runs.
  int sql_delay_ms = 300;
  /// How long a dataset's partition counts from the state store are reused.
  int counts_ttl_ms = 3000;
};

class Server {
 public:
  /// `send` writes one framed message; it is called from the request thread and from the
  /// worker thread (never at once: the server serializes the calls).
  Server(ServerOptions options, std::function<void(const std::string& body)> send);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Handles one message body (a JSON-RPC request, notification or response).
  void handle(const std::string& body);
  /// Reports a framing error (a bad header block) to the client.
  void framing_error(const std::string& message);
  /// True after the `exit` notification; exit_code() is then 0 when `shutdown` came first.
  bool exited() const;
  int exit_code() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Runs the server on file descriptors (stdin and stdout for `dbuild lsp`) until `exit` or
/// the end of input. Returns the process exit code: 0 after shutdown then exit, else 1.
int run_stdio(const ServerOptions& options, int in_fd = 0, int out_fd = 1);

}  // namespace dbuild::lsp
