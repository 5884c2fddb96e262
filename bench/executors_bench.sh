#!/usr/bin/env bash
# Job throughput of the executors: a command table of N trivial partitions (`echo` into its
# output), built cold on the local executor (-j2) and on a one-node SLURM cluster started for
# the run (scripts/slurm; the node offers SLURM_CPUS CPUs), ROUNDS times, interleaved; prints
# the median time and jobs per second of each, beside the same jobs submitted with sbatch alone
# (what SLURM itself allows, without dbuild).
#
#   bench/executors_bench.sh [N] [ROUNDS] [SLURM_CPUS] [DBUILD]
#       defaults: 200 3 2 build/dbuild
#
# SLURM's own scheduling dominates: its scheduler runs about once a second, so a job waits up
# to a second to start; dbuild asks squeue every DBUILD_SLURM_POLL_MS (500 by default, 200
# here), which adds up to that much to each job's end.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
ROUNDS=${2:-3}
CPUS=${3:-2}
DBUILD=$(realpath "${4:-build/dbuild}")
WORK=$(mktemp -d /tmp/dbx-XXXXXX)  # short: SLURM's sockets live under it
cleanup() {
  [ -d "$WORK/slurm" ] && scripts/slurm stop "$WORK/slurm" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
env_lines=$(DBUILD_SLURM_CPUS=$CPUS scripts/slurm start "$WORK/slurm") && eval "$env_lines"
export DBUILD_SLURM_POLL_MS=200

make_workspace() {  # make_workspace DIR
  local dir=$1
  mkdir -p "$dir/in"
  for i in $(seq 1 "$N"); do echo "$i" >"$dir/in/$i.txt"; done
  cat >"$dir/workspace.dbuild" <<'RULES'
workspace { slurm { time = 5m } }
source inputs { path = "in/{n}.txt" format = lines partition n: int }
table jobs {
  partition n: int
  input inputs[n]
  command """cat in/$DBUILD_PARTITION.txt > {{ output }}"""
  output "out/{n}.txt"
}
RULES
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A times
for round in $(seq 1 "$ROUNDS"); do
  for executor in local slurm; do
    dir="$WORK/$executor-$round"
    make_workspace "$dir"
    start=$(date +%s.%N)
    "$DBUILD" build -C "$dir" -j2 --executor "$executor" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
    end=$(date +%s.%N)
    times[$executor]+="$(echo "$end - $start" | bc) "
    rm -rf "$dir"
  done
  # The same jobs with sbatch alone (no dbuild): submit them all, wait until squeue lists none.
  dir="$WORK/sbatch-$round"
  make_workspace "$dir"
  mkdir -p "$dir/out"
  start=$(date +%s.%N)
  ids=$(for i in $(seq 1 "$N"); do
    sbatch --parsable --chdir="$dir" --output=/dev/null --time=5 --wrap "cat in/$i.txt > out/$i.txt"
  done | paste -sd,)
  while [ -n "$(squeue --noheader --jobs="$ids" --format=%i 2>/dev/null)" ]; do sleep 0.2; done
  end=$(date +%s.%N)
  times[sbatch]+="$(echo "$end - $start" | bc) "
  [ "$(ls "$dir/out" | wc -l)" -eq "$N" ] || { echo "sbatch alone: not every job wrote its output" >&2; exit 1; }
  rm -rf "$dir"
done

printf '%-8s %8s %10s\n' executor seconds jobs/s
for executor in local slurm sbatch; do
  t=$(tr ' ' '\n' <<<"${times[$executor]}" | grep . | median)
  printf '%-8s %8.2f %10.1f\n' "$executor" "$t" "$(echo "$N / $t" | bc -l)"
done
echo "($N jobs, cold, median of $ROUNDS; SLURM node with $CPUS CPUs; local and slurm are dbuild builds"
echo " (the $N file loads included), sbatch is the same jobs submitted and awaited without dbuild)"
