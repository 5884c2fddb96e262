#!/usr/bin/env bash
# Planning speed on a synthetic graph: DAYS daily source files feeding a chain of TABLES
# daily tables, DAYS * (TABLES + 1) actions in all. Everything is recorded as built
# (a real build of the first day creates the tables, `dbuild mark-done` records the rest),
# then a no-op `dbuild plan` and a no-op `dbuild build` are timed, with peak memory.
#
#   bench/plan_bench.sh [DAYS] [TABLES] [DBUILD]     (defaults: 1000 100 build/dbuild)
set -euo pipefail
DAYS=${1:-1000}
TABLES=${2:-100}
DBUILD=$(realpath "${3:-build/dbuild}")
WS=$(mktemp -d /tmp/dbuild-bench-XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WS"' EXIT
echo "workspace: $WS"

python3 - "$WS" "$DAYS" "$TABLES" <<'PY'
import datetime, os, sys
ws, days, tables = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(f"{ws}/data")
start = datetime.date(2020, 1, 1)
for i in range(days):
    d = start + datetime.timedelta(days=i)
    with open(f"{ws}/data/{d}.csv", "w") as f:
        f.write(f"k,v\na,{i}\n")
with open(f"{ws}/workspace.dbuild", "w") as f:
    f.write('source s { path = "data/{day}.csv" format = csv partition day: date }\n')
    prev = "s"
    for t in range(tables):
        f.write(f'table t{t} {{ partition day: date  sql "SELECT k, v FROM {prev}" }}\n')
        prev = f"t{t}"
PY

cd "$WS"
ACTIONS=$((DAYS * (TABLES + 1)))
echo "synthetic graph: $DAYS days x ($TABLES tables + 1 source) = $ACTIONS actions"
"$DBUILD" build --to 2020-01-01 >/dev/null 2>&1
/usr/bin/time -f "mark-done: %es, peak %MKB" "$DBUILD" mark-done >/dev/null
measure() {  # label, command...
  local label=$1; shift
  local best=999999 mem=0
  for _ in 1 2 3; do
    /usr/bin/time -o "$WS/time.txt" -f "%e %M" "$@" >/dev/null
    read -r secs kb <"$WS/time.txt"
    best=$(python3 -c "print(min($best, $secs))")
    mem=$kb
  done
  echo "$label: best of 3 ${best}s, peak ${mem}KB"
}
measure "no-op plan" "$DBUILD" plan
measure "no-op build" "$DBUILD" build
"$DBUILD" plan | tail -1
