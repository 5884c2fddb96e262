#!/usr/bin/env bash
# Latency of `dbuild lsp` on a generated workspace of N rules (one file source and N-1 daily
# SQL tables, each reading the one before it, 50 rules per file): the time from a one-character
# edit to the edited file's diagnostics (syntax and model of the whole workspace; the SQL pass
# comes later, on its own thread), and the time of a hover (on a different dataset each round,
# so its partition counts are read from the state store, not from the cache) and of a
# completion. The workspace is built first. Prints the median and the worst of ROUNDS.
#
#   bench/lsp_bench.sh [N] [ROUNDS] [DBUILD]
#       defaults: 1000 30 build/dbuild
#
# The client is a small Python script (standard library only) speaking JSON-RPC over pipes.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
ROUNDS=${2:-30}
DBUILD=$(realpath -m "${3:-build/dbuild}")
[ -x "$DBUILD" ] || { echo "lsp_bench: no binary at $DBUILD; build it first (cmake --build build)" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dbuild-lsp-bench-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo 'workspace { }' > "$WORK/workspace.dbuild"
{
  echo 'source t_0 {'
  echo '  path = "data/{day}.csv"'
  echo '  format = csv'
  echo '  partition day: date'
  echo '  columns { user: string  amount: int }'
  echo '}'
} > "$WORK/rules_000.dbuild"
for ((i = 1; i < N; i++)); do
  f=$(printf '%s/rules_%03d.dbuild' "$WORK" $((i / 50)))
  cat >> "$f" <<RULE
# rule $i
table t_$i {
  partition day: date
  sql """
    SELECT user, sum(amount) AS amount FROM t_$((i - 1)) GROUP BY user
  """
}
RULE
done
mkdir -p "$WORK/data"
printf 'user,amount\nada,1\n' > "$WORK/data/2024-01-01.csv"
# A built workspace, so that each hover reads partition records from the state store.
"$DBUILD" build -C "$WORK" -j2 > /dev/null 2>&1

python3 - "$DBUILD" "$WORK" "$ROUNDS" "$N" <<'PY'
import json, os, statistics, subprocess, sys, time
dbuild, root, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = subprocess.Popen([dbuild, "lsp"], cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
buf = b""
def send(msg):
    body = json.dumps(msg).encode()
    p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    p.stdin.flush()
def read():
    global buf
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            n = int(buf[:end].split(b":")[1])
            if len(buf) >= end + 4 + n:
                msg = json.loads(buf[end + 4:end + 4 + n]); buf = buf[end + 4 + n:]
                return msg
        chunk = os.read(p.stdout.fileno(), 1 << 16)
        if not chunk: sys.exit("dbuild lsp ended")
        buf += chunk
ids = iter(range(1, 1 << 30))
def request(method, params):
    i = next(ids); send({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
    while True:
        m = read()
        if m.get("id") == i and "method" not in m: return m
def wait_diagnostics(uri):
    while True:
        m = read()
        if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri: return m
name = "/rules_%03d.dbuild" % min(10, len([f for f in os.listdir(root) if f.startswith("rules_")]) - 1)
uri = "file://" + root + name
text = open(root + name).read()
request("initialize", {"processId": None, "rootUri": "file://" + root, "capabilities": {}})
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
t = time.perf_counter()
send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
      "params": {"textDocument": {"uri": uri, "languageId": "dbuild", "version": 1, "text": text}}})
wait_diagnostics(uri)
first = time.perf_counter() - t
edit, hover, complete = [], [], []
lines = text.split("\n")
sql_lines = [i for i, l in enumerate(lines) if "FROM t_" in l]
for r in range(rounds):
    # A different dataset each round: its partition counts are not cached yet.
    sql_line = sql_lines[r % len(sql_lines)]
    col = lines[sql_line].index("FROM t_") + 6
    t = time.perf_counter()
    send({"jsonrpc": "2.0", "method": "textDocument/didChange",
          "params": {"textDocument": {"uri": uri, "version": r + 2},
                     "contentChanges": [{"range": {"start": {"line": 0, "character": 1},
                                                   "end": {"line": 0, "character": 1 if r % 2 == 0 else 2}},
                                         "text": "x" if r % 2 == 0 else ""}]}})
    wait_diagnostics(uri)
    edit.append(time.perf_counter() - t)
    t = time.perf_counter()
    h = request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": sql_line, "character": col}})
    hover.append(time.perf_counter() - t)
    assert "1 built" in h["result"]["contents"]["value"], h
    t = time.perf_counter()
    c = request("textDocument/completion", {"textDocument": {"uri": uri}, "position": {"line": sql_line, "character": col - 1}})
    complete.append(time.perf_counter() - t)
    assert len(c["result"]["items"]) >= int(sys.argv[4]), len(c["result"]["items"])
# An unknown column (`user` becomes `usr`): found only by the SQL pass (the engine prepares every query).
line = sql_lines[0]
col = lines[line].index("SELECT user") + 7
t = time.perf_counter()
send({"jsonrpc": "2.0", "method": "textDocument/didChange",
      "params": {"textDocument": {"uri": uri, "version": rounds + 2},
                 "contentChanges": [{"range": {"start": {"line": line, "character": col + 2},
                                               "end": {"line": line, "character": col + 3}}, "text": ""}]}})
while True:
    m = wait_diagnostics(uri)
    if any("usr" in d["message"] for d in m["params"]["diagnostics"]): break
    if time.perf_counter() - t > 60: sys.exit("no SQL diagnostic about `usr` within 60 s")
sql_pass = time.perf_counter() - t
request("shutdown", None)
send({"jsonrpc": "2.0", "method": "exit"})
p.wait()
ms = lambda xs: "%.1f ms median, %.1f ms worst" % (statistics.median(xs) * 1000, max(xs) * 1000)
print("rounds: %d" % rounds)
print("first diagnostics after open: %.1f ms" % (first * 1000))
print("diagnostics after a one-character edit: " + ms(edit))
print("hover: " + ms(hover))
print("completion (every dataset): " + ms(complete))
print("SQL prepare diagnostics after an edit (300 ms quiet time included): %.0f ms" % (sql_pass * 1000))
PY
