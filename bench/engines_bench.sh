#!/usr/bin/env bash
# The NASA example at N times its data on each engine: a cold build (-j2) and a no-op build,
# best of ROUNDS, engines interleaved round by round. Servers are started for the run
# (scripts/pg, scripts/clickhouse) and stopped at the end.
#
#   bench/engines_bench.sh [N] [ROUNDS] [ENGINES] [DBUILD]
#       defaults: 10 3 "sqlite postgres clickhouse" build/dbuild
#
# The data is the example's two monthly logs, each line repeated N times (so every day has N
# times the rows, and every table the same shape). The test servers run with fsync off (their
# data is disposable); SQLite syncs every commit (synchronous=FULL).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10}
ROUNDS=${2:-3}
ENGINES=${3:-sqlite postgres clickhouse}
DBUILD=$(realpath "${4:-build/dbuild}")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dbuild-engines-bench-XXXXXX")
chmod 755 "$WORK"  # the servers may run as another user (scripts/pg as root)
cleanup() {
  [ -d "$WORK/pg" ] && scripts/pg stop "$WORK/pg" >/dev/null 2>&1 || true
  [ -d "$WORK/ch" ] && scripts/clickhouse stop "$WORK/ch" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# A copy of the example with N times the log lines, on the engine named by $1.
make_workspace() {  # make_workspace ENGINE DIR
  local engine=$1 dir=$2
  mkdir -p "$dir"
  cp -r examples/nasa/{workspace.dbuild,sources.dbuild,pipeline.dbuild,queries} "$dir/"
  mkdir -p "$dir/data/raw"
  cp examples/nasa/data/http_status.csv "$dir/data/"
  for f in examples/nasa/data/raw/*.log; do
    awk -v n="$N" '{ for (i = 0; i < n; i++) print }' "$f" >"$dir/data/raw/$(basename "$f")"
  done
  case $engine in
    postgres)
      PGOPTIONS=--client-min-messages=warning psql -q -h "$DBUILD_TEST_PG_HOST" -p "$DBUILD_TEST_PG_PORT" -U "$DBUILD_TEST_PG_USER" -d postgres \
        -c "DROP DATABASE IF EXISTS bench_$ROUND" -c "CREATE DATABASE bench_$ROUND" >/dev/null
      sed -i 's/^workspace {/workspace {\n  default_connection = pg/' "$dir/workspace.dbuild"
      printf 'connection pg {\n  engine = "postgres"\n  host = "%s"\n  port = %s\n  database = "bench_%s"\n  user = "%s"\n}\n' \
        "$DBUILD_TEST_PG_HOST" "$DBUILD_TEST_PG_PORT" "$ROUND" "$DBUILD_TEST_PG_USER" >>"$dir/workspace.dbuild"
      ;;
    clickhouse)
      for shard in ${DBUILD_TEST_CH_SHARDS//,/ }; do
        curl -sS "http://$shard/" --data-binary "DROP DATABASE IF EXISTS bench_$ROUND" >/dev/null
        curl -sS "http://$shard/" --data-binary "CREATE DATABASE bench_$ROUND" >/dev/null
      done
      sed -i 's/^workspace {/workspace {\n  default_connection = ch/' "$dir/workspace.dbuild"
      printf 'connection ch {\n  engine = "clickhouse"\n  shards = "%s"\n  cluster = "%s"\n  database = "bench_%s"\n}\n' \
        "$DBUILD_TEST_CH_SHARDS" "$DBUILD_TEST_CH_CLUSTER" "$ROUND" >>"$dir/workspace.dbuild"
      ;;
  esac
}

seconds() { python3 -c 'import sys,time; t=time.time(); import subprocess; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); print(f"{time.time()-t:.2f}")' "$@"; }

for engine in $ENGINES; do
  case $engine in
    postgres) env_lines=$(scripts/pg start "$WORK/pg") && eval "$env_lines" ;;
    clickhouse) env_lines=$(scripts/clickhouse start "$WORK/ch") && eval "$env_lines" ;;
  esac
done

declare -A cold noop
for ROUND in $(seq 1 "$ROUNDS"); do
  for engine in $ENGINES; do
    ws="$WORK/$engine-$ROUND"
    make_workspace "$engine" "$ws"
    c=$(seconds "$DBUILD" build -j2 -C "$ws")
    n=$(seconds "$DBUILD" build -j2 -C "$ws")
    echo "round $ROUND $engine: cold $c s, no-op $n s"
    cold[$engine]="${cold[$engine]:-} $c"
    noop[$engine]="${noop[$engine]:-} $n"
  done
done
rows=$(cat "$WORK"/sqlite-1/data/raw/*.log 2>/dev/null | wc -l || true)
echo
echo "| engine | cold build (-j2) | no-op build |"
echo "|---|---|---|"
for engine in $ENGINES; do
  best() { tr ' ' '\n' | grep . | sort -n | head -1; }
  echo "| $engine | $(echo "${cold[$engine]}" | best) s | $(echo "${noop[$engine]}" | best) s |"
done
echo "(${N}x the example's data: ${rows:-?} log lines; best of $ROUNDS)"
