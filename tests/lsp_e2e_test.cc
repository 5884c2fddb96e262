// End-to-end tests of `dbuild lsp`: the real binary as a child process, spoken to over pipes
// with JSON-RPC, as an editor does.
#include <doctest/doctest.h>

#include <chrono>
#include <deque>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace dbuild::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

/// UTF-16 code units of a UTF-8 string: what the protocol counts (written here independently
/// of the server's converter).
uint32_t utf16_length(std::string_view s) {
  uint32_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    n += c >= 0xF0 ? 2 : 1;
  }
  return n;
}

/// A running `dbuild lsp` with pipes to its stdin and stdout.
class LspClient {
 public:
  explicit LspClient(const std::string& dir) {
    int in[2], out[2];
    REQUIRE(pipe(in) == 0);
    REQUIRE(pipe(out) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      if (chdir(dir.c_str()) != 0) _exit(127);
      execl(dbuild_binary().c_str(), "dbuild", "lsp", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = in[1];
    from_ = out[0];
    signal(SIGPIPE, SIG_IGN);
  }
  ~LspClient() {
    if (to_ >= 0) close(to_);
    if (pid_ > 0 && !waited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(from_);
  }

  void send_raw(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = write(to_, bytes.data() + done, bytes.size() - done);
      REQUIRE(n > 0);
      done += static_cast<size_t>(n);
    }
  }
  void send(const json& msg) {
    std::string body = msg.dump();
    send_raw("Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  }
  void notify(const std::string& method, json params) {
    send({{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}});
  }
  /// Sends a request and waits for its response (notifications meanwhile are kept).
  json request(const std::string& method, json params) {
    int id = next_id_++;
    send({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
    return wait_response(id);
  }
  json wait_response(const json& id) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      json m = read_message(deadline);
      if (m.is_null()) break;
      if (m.contains("id") && m["id"] == id && !m.contains("method")) return m;
      notifications_.push_back(m);
    }
    FAIL("no response to request ", id.dump());
    return nullptr;
  }
  /// Waits for a publishDiagnostics of `uri` that satisfies `pred`.
  json wait_diagnostics(const std::string& uri, const std::function<bool(const json&)>& pred,
                        std::chrono::milliseconds timeout = 20s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      while (!notifications_.empty()) {
        json m = notifications_.front();
        notifications_.pop_front();
        if (m.value("method", "") == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri &&
            pred(m["params"]["diagnostics"]))
          return m["params"]["diagnostics"];
      }
      if (std::chrono::steady_clock::now() >= deadline) return nullptr;
      json m = read_message(deadline);
      if (m.is_null()) return nullptr;
      notifications_.push_back(m);
    }
  }
  void initialize(const std::string& root) {
    json r = request("initialize", {{"processId", nullptr}, {"rootUri", "file://" + root}, {"capabilities", json::object()}});
    REQUIRE(r.contains("result"));
    notify("initialized", json::object());
  }
  void open(const std::string& path, const std::string& text) {
    notify("textDocument/didOpen",
           {{"textDocument", {{"uri", "file://" + path}, {"languageId", "dbuild"}, {"version", 1}, {"text", text}}}});
  }
  /// Exit status of the server after it ended by itself (-1: it did not end within 10 s).
  int wait_exit() {
    close(to_);
    to_ = -1;
    for (int i = 0; i < 1000; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        waited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      usleep(10000);
    }
    return -1;
  }

 private:
  json read_message(std::chrono::steady_clock::time_point deadline) {
    while (true) {
      size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t at = buffer_.find("Content-Length: ");
        REQUIRE(at < end);
        size_t len = std::stoul(buffer_.substr(at + 16, end - at - 16));
        if (buffer_.size() >= end + 4 + len) {
          json m = json::parse(buffer_.substr(end + 4, len));
          buffer_.erase(0, end + 4 + len);
          return m;
        }
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return nullptr;
      pollfd p{from_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return nullptr;
      char buf[65536];
      ssize_t n = read(from_, buf, sizeof buf);
      if (n <= 0) return nullptr;
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  bool waited_ = false;
  int next_id_ = 1;
  std::string buffer_;
  std::deque<json> notifications_;
};

// The line of tables.dbuild whose SQL has multi-byte characters before the table name.
const char* kSqlLine = "    SELECT e.user, 'é中文😀' AS tag, sum(e.amount) AS total FROM events e GROUP BY e.user\n";

/// A workspace of two rule files: a source in sources.dbuild, a table reading it in tables.dbuild.
struct LspWorkspace {
  TempDir dir;
  std::string sources, tables;
  std::string tables_text;
  LspWorkspace() {
    dir.write("workspace.dbuild", "workspace { }\n");
    sources = dir.write("sources.dbuild",
                        "source events {\n"
                        "  path = \"data/{day}.csv\"\n"
                        "  format = csv\n"
                        "  partition day: date\n"
                        "  columns { user: string  amount: int }\n"
                        "}\n");
    tables_text = std::string("table daily {\n  partition day: date\n  input events[day]\n  sql \"\"\"\n") + kSqlLine +
                  "  \"\"\"\n}\n";
    tables = dir.write("tables.dbuild", tables_text);
    for (const char* day : {"2024-01-01", "2024-01-02", "2024-01-03"})
      dir.write(std::string("data/") + day + ".csv", "user,amount\nada,1\nbob,2\n");
  }
  std::string uri(const std::string& path) const { return "file://" + path; }
};

json position(uint32_t line, uint32_t character) { return {{"line", line}, {"character", character}}; }
json at(const std::string& uri, uint32_t line, uint32_t character) {
  return {{"textDocument", {{"uri", uri}}}, {"position", position(line, character)}};
}

}  // namespace

TEST_CASE("lsp e2e: an error gets a diagnostic with its UTF-16 range, an incremental fix clears it") {
  LspWorkspace ws;
  std::string broken = ws.tables_text;
  broken.replace(broken.find("FROM events"), 11, "FROM evnts");
  LspClient lsp(ws.dir.path());
  lsp.initialize(ws.dir.path());
  lsp.open(ws.tables, broken);  // the buffer, not the file on disk, is what gets checked
  json diags = lsp.wait_diagnostics(ws.uri(ws.tables), [](const json& d) { return !d.empty(); });
  REQUIRE(diags.is_array());
  REQUIRE(diags.size() == 1);
  std::string line(kSqlLine);
  line.replace(line.find("FROM events"), 11, "FROM evnts");
  uint32_t start = utf16_length(line.substr(0, line.find("evnts")));
  CHECK(diags[0]["message"].get<std::string>().find("evnts") != std::string::npos);
  CHECK(diags[0]["message"].get<std::string>().find("did you mean `events`") != std::string::npos);
  CHECK(diags[0]["severity"] == 1);
  CHECK(diags[0]["range"]["start"] == position(4, start));
  CHECK(diags[0]["range"]["end"] == position(4, start + 5));
  // The hint is related information at the same place too.
  REQUIRE(diags[0]["relatedInformation"].size() == 1);
  CHECK(diags[0]["relatedInformation"][0]["message"] == "hint: did you mean `events`?");
  CHECK(diags[0]["relatedInformation"][0]["location"]["uri"] == ws.uri(ws.tables));
  CHECK(diags[0]["relatedInformation"][0]["location"]["range"] == diags[0]["range"]);
  // Insert the missing `e` with a ranged change: the diagnostics of the file become empty.
  lsp.notify("textDocument/didChange",
             {{"textDocument", {{"uri", ws.uri(ws.tables)}, {"version", 2}}},
              {"contentChanges", {{{"range", {{"start", position(4, start + 2)}, {"end", position(4, start + 2)}}},
                                   {"text", "e"}}}}});
  json fixed = lsp.wait_diagnostics(ws.uri(ws.tables), [](const json& d) { return d.empty(); });
  CHECK(fixed.is_array());
}

TEST_CASE("lsp e2e: a syntax error in an open buffer, and a folder without workspace.dbuild") {
  TempDir dir;
  std::string path = dir.write("loose.dbuild", "table t {\n");
  LspClient lsp(dir.path());
  lsp.initialize(dir.path());
  lsp.open(path, "# 😀\ntable t {\n  partition day: date\n");
  json diags = lsp.wait_diagnostics("file://" + path, [](const json& d) { return !d.empty(); });
  REQUIRE(diags.is_array());
  CHECK(diags[0]["message"].get<std::string>().find("syntax error") != std::string::npos);
  // Fix it with a change past the end of the document (clamped to the end).
  lsp.notify("textDocument/didChange", {{"textDocument", {{"uri", "file://" + path}, {"version", 2}}},
                                        {"contentChanges", {{{"range", {{"start", position(99, 0)}, {"end", position(99, 5)}}},
                                                             {"text", "}\n"}}}}});
  CHECK(lsp.wait_diagnostics("file://" + path, [](const json& d) { return d.empty(); }).is_array());
}

TEST_CASE("lsp e2e: hover on a dataset of another file shows its keys, columns and partition counts") {
  LspWorkspace ws;
  DbuildIn db{ws.dir.path()};
  db.run("build");
  REQUIRE(db.code == 0);
  LspClient lsp(ws.dir.path());
  lsp.initialize(ws.dir.path());
  lsp.open(ws.tables, ws.tables_text);
  // `events` in `input events[day]`, line 2. The partition total comes from the SQL pass on
  // the worker thread, a moment later: ask until it is there.
  std::string text;
  for (int i = 0; i < 100; ++i) {
    json r = lsp.request("textDocument/hover", at(ws.uri(ws.tables), 2, 10));
    REQUIRE(r["result"].is_object());
    text = r["result"]["contents"]["value"];
    if (text.find("3 partitions") != std::string::npos) break;
    usleep(100000);
  }
  CHECK(text.find("source (files)") != std::string::npos);
  CHECK(text.find("`day: date`") != std::string::npos);
  CHECK(text.find("`amount: int`") != std::string::npos);
  CHECK(text.find("3 partitions: 3 built") != std::string::npos);
  // Hover on the table itself: its input with the mapping as written.
  json r = lsp.request("textDocument/hover", at(ws.uri(ws.tables), 0, 7));
  std::string own = r["result"]["contents"]["value"];
  CHECK(own.find("`events[day]`") != std::string::npos);
}

TEST_CASE("lsp e2e: definition, references with SQL mentions, and completion after input") {
  LspWorkspace ws;
  LspClient lsp(ws.dir.path());
  lsp.initialize(ws.dir.path());
  lsp.open(ws.tables, ws.tables_text);
  json def = lsp.request("textDocument/definition", at(ws.uri(ws.tables), 2, 9))["result"];
  REQUIRE(def.is_object());
  CHECK(def["uri"] == ws.uri(ws.sources));
  CHECK(def["range"]["start"] == position(0, 7));
  CHECK(def["range"]["end"] == position(0, 13));

  json refs = lsp.request("textDocument/references",
                          {{"textDocument", {{"uri", ws.uri(ws.sources)}}}, {"position", position(0, 8)},
                           {"context", {{"includeDeclaration", true}}}})["result"];
  REQUIRE(refs.is_array());
  std::string line(kSqlLine);
  uint32_t sql_at = utf16_length(line.substr(0, line.find("events")));
  bool decl = false, input = false, sql = false;
  for (const auto& r : refs) {
    decl = decl || (r["uri"] == ws.uri(ws.sources) && r["range"]["start"] == position(0, 7));
    input = input || (r["uri"] == ws.uri(ws.tables) && r["range"]["start"] == position(2, 8));
    sql = sql || (r["uri"] == ws.uri(ws.tables) && r["range"]["start"] == position(4, sql_at));
  }
  CHECK(refs.size() == 3);
  CHECK(decl);
  CHECK(input);
  CHECK(sql);

  // A new line `  input ` in the table: completion there lists the datasets.
  lsp.notify("textDocument/didChange", {{"textDocument", {{"uri", ws.uri(ws.tables)}, {"version", 2}}},
                                        {"contentChanges", {{{"range", {{"start", position(2, 0)}, {"end", position(2, 0)}}},
                                                             {"text", "  input \n"}}}}});
  json items = lsp.request("textDocument/completion", at(ws.uri(ws.tables), 2, 8))["result"]["items"];
  std::set<std::string> labels;
  for (const auto& i : items) labels.insert(i["label"]);
  CHECK(labels.count("events"));
  CHECK(labels.count("daily"));
  CHECK_FALSE(labels.count("partition"));  // not a keyword position
  // In SQL after `e.`: the columns of the dataset the alias names.
  std::string sql_line(kSqlLine);
  items = lsp.request("textDocument/completion",
                      at(ws.uri(ws.tables), 5, utf16_length(sql_line.substr(0, sql_line.find("e.user") + 2))))["result"]["items"];
  labels.clear();
  for (const auto& i : items) labels.insert(i["label"]);
  CHECK(labels.count("amount"));
  CHECK(labels.count("user"));
}

TEST_CASE("lsp e2e: a .sql file used by sql file: hover, references, and vars in templates") {
  LspWorkspace ws;
  ws.dir.write("workspace.dbuild", "workspace { }\nvar min_amount = 0\n");
  std::string sql = ws.dir.write("queries/top.sql", "-- 中文\nSELECT user FROM events WHERE amount > {{ min_amount }}\n");
  std::string top = ws.dir.write("top.dbuild", "table top {\n  sql file \"queries/top.sql\"\n}\n");
  LspClient lsp(ws.dir.path());
  lsp.initialize(ws.dir.path());
  lsp.open(sql, slurp(sql));
  json hover = lsp.request("textDocument/hover", at(ws.uri(sql), 1, 19))["result"];
  REQUIRE(hover.is_object());
  CHECK(hover["contents"]["value"].get<std::string>().find("`events`") != std::string::npos);
  CHECK(hover["range"]["start"] == position(1, 17));
  json refs = lsp.request("textDocument/references",
                          {{"textDocument", {{"uri", ws.uri(ws.sources)}}}, {"position", position(0, 8)},
                           {"context", {{"includeDeclaration", false}}}})["result"];
  bool in_sql_file = false;
  for (const auto& r : refs) in_sql_file = in_sql_file || r["uri"] == ws.uri(sql);
  CHECK(refs.size() == 3);  // tables.dbuild's input and SQL, and the .sql file
  CHECK(in_sql_file);
  // `min_amount` inside {{ }} goes to its var declaration.
  std::string line = "SELECT user FROM events WHERE amount > {{ min_amount }}";
  json def = lsp.request("textDocument/definition",
                         at(ws.uri(sql), 1, static_cast<uint32_t>(line.find("min_amount") + 2)))["result"];
  REQUIRE(def.is_object());
  CHECK(def["uri"] == ws.uri(ws.dir / "workspace.dbuild"));
  CHECK(def["range"]["start"] == position(1, 4));
  (void)top;
}

TEST_CASE("lsp e2e: rename of a dataset edits both files, prepareRename refuses a keyword") {
  LspWorkspace ws;
  LspClient lsp(ws.dir.path());
  lsp.initialize(ws.dir.path());
  json refused = lsp.request("textDocument/prepareRename", at(ws.uri(ws.tables), 1, 3));  // `partition`
  CHECK(refused.contains("error"));
  json prep = lsp.request("textDocument/prepareRename", at(ws.uri(ws.tables), 2, 9))["result"];
  CHECK(prep["placeholder"] == "events");
  json edit = lsp.request("textDocument/rename", {{"textDocument", {{"uri", ws.uri(ws.tables)}}},
                                                  {"position", position(2, 9)}, {"newName", "clicks"}})["result"];
  REQUIRE(edit.is_object());
  CHECK(edit["changes"][ws.uri(ws.sources)].size() == 1);
  CHECK(edit["changes"][ws.uri(ws.tables)].size() == 2);  // the input clause and the SQL
  for (const auto& [uri, edits] : edit["changes"].items())
    for (const auto& e : edits) CHECK(e["newText"] == "clicks");
  json bad = lsp.request("textDocument/rename", {{"textDocument", {{"uri", ws.uri(ws.tables)}}},
                                                 {"position", position(2, 9)}, {"newName", "9 lives"}});
  CHECK(bad.contains("error"));
}

TEST_CASE("lsp e2e: bad input gets errors, not a crash, and shutdown then exit ends with 0") {
  LspWorkspace ws;
  LspClient lsp(ws.dir.path());
  lsp.send_raw("Content-Length: 5\r\n\r\n{oops");
  json parse_error = lsp.wait_response(nullptr);
  CHECK(parse_error["error"]["code"] == -32700);
  lsp.initialize(ws.dir.path());
  CHECK(lsp.request("no/such/method", json::object())["error"]["code"] == -32601);
  CHECK(lsp.request("textDocument/hover", {{"textDocument", 3}})["error"]["code"] == -32602);
  lsp.notify("no/such/notification", json::object());
  lsp.notify("textDocument/didChange", {{"textDocument", {{"uri", "file:///nowhere.dbuild"}, {"version", 2}}},
                                        {"contentChanges", {{{"text", "x"}}}}});
  json hover = lsp.request("textDocument/hover", at(ws.uri(ws.tables), 999, 999));
  CHECK(hover.contains("result"));
  json symbols = lsp.request("textDocument/documentSymbol", {{"textDocument", {{"uri", ws.uri(ws.tables)}}}})["result"];
  REQUIRE(symbols.size() == 1);
  CHECK(symbols[0]["name"] == "daily");
  CHECK(symbols[0]["children"].size() == 2);  // the key and the input
  CHECK(lsp.request("shutdown", nullptr)["result"].is_null());
  lsp.notify("exit", nullptr);
  CHECK(lsp.wait_exit() == 0);
}

TEST_CASE("lsp e2e: formatting replaces an unsaved buffer with the canonical layout, and refuses broken text") {
  LspWorkspace ws;
  LspClient lsp(ws.dir.path());
  lsp.initialize(ws.dir.path());
  // The open buffer, not the file on disk, is what gets formatted; a multibyte comment makes
  // the edit's end a UTF-16 position.
  std::string messy =
      "# caf\u00e9 \u4e2d\u6587\ntable daily{partition day:date\n input events[day]   sql \"SELECT 1 AS x\"} # \u00e9\U0001F600";
  lsp.open(ws.tables, messy);
  json format = {{"textDocument", {{"uri", ws.uri(ws.tables)}}}, {"options", {{"tabSize", 2}, {"insertSpaces", true}}}};
  json edits = lsp.request("textDocument/formatting", format)["result"];
  REQUIRE(edits.size() == 1);
  CHECK(edits[0]["range"]["start"] == position(0, 0));
  CHECK(edits[0]["range"]["end"] == position(2, 47));  // UTF-16 units: 50 bytes, 46 code points
  CHECK(edits[0]["newText"] == "# caf\u00e9 \u4e2d\u6587\ntable daily {\n  partition day: date\n  input events[day]\n"
                               "  sql \"SELECT 1 AS x\"\n} # \u00e9\U0001F600\n");
  // Formatted already: no edit.
  lsp.notify("textDocument/didChange", {{"textDocument", {{"uri", ws.uri(ws.tables)}, {"version", 2}}},
                                        {"contentChanges", {{{"text", edits[0]["newText"]}}}}});
  CHECK(lsp.request("textDocument/formatting", format)["result"] == json::array());
  // A syntax error: refused with where it is, and no edit.
  lsp.notify("textDocument/didChange", {{"textDocument", {{"uri", ws.uri(ws.tables)}, {"version", 3}}},
                                        {"contentChanges", {{{"text", "table daily { sql \"x\" ] }\n"}}}}});
  json refused = lsp.request("textDocument/formatting", format);
  REQUIRE(refused.contains("error"));
  CHECK(refused["error"]["message"].get<std::string>().find("tables.dbuild:1:") != std::string::npos);
  CHECK(refused["error"]["message"].get<std::string>().find("never rewrites a file it cannot parse") != std::string::npos);
}

TEST_CASE("lsp e2e: exit without shutdown ends with 1") {
  TempDir dir;
  LspClient lsp(dir.path());
  lsp.initialize(dir.path());
  lsp.notify("exit", nullptr);
  CHECK(lsp.wait_exit() == 1);
}

TEST_CASE("lsp e2e: SQL prepare errors arrive after the quiet time") {
  LspWorkspace ws;
  std::string text = ws.tables_text;
  text.replace(text.find("sum(e.amount)"), 13, "sum(e.nosuchcol)");
  LspClient lsp(ws.dir.path());
  lsp.initialize(ws.dir.path());
  lsp.open(ws.tables, text);
  json diags = lsp.wait_diagnostics(ws.uri(ws.tables), [](const json& d) {
    return !d.empty() && d[0]["message"].get<std::string>().find("nosuchcol") != std::string::npos;
  });
  REQUIRE(diags.is_array());
  CHECK(diags[0]["range"]["start"]["line"] == 4);
}

}  // namespace dbuild::testing
