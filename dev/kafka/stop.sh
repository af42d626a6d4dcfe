#!/usr/bin/env bash
# Stops Kafka clusters started by start.sh: SIGTERM (a clean shutdown), then SIGKILL after
# KAFKA_STOP_TIMEOUT seconds (default 30). Only processes whose command line names the cluster's
# own directory are signalled, so a stale pid file never hits another process.
# Usage: dev/kafka/stop.sh [--dir D] [--kill] [--wipe]
#   --dir   the cluster to stop (default: every cluster under dev/kafka/run/)
#   --kill  SIGKILL at once (a crash, for fault tests); data is kept
#   --wipe  delete the cluster directory afterwards (default: keep it, so start.sh --dir D restarts it)
# Idempotent: stopping a stopped cluster does nothing and succeeds.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dirs=() sig=TERM wipe=0
while [[ $# -gt 0 ]]; do
  case $1 in
    # An empty --dir (an unset variable) would resolve to the current directory, and --wipe would
    # delete it: refused.
    --dir) [[ -n ${2:-} ]] || { echo "stop.sh: --dir needs a cluster directory" >&2; exit 2; }
      dirs+=("$(cd "$2" 2>/dev/null && pwd || echo "$2")"); shift 2 ;;
    --kill) sig=KILL; shift ;;
    --wipe) wipe=1; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "stop.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [[ ${#dirs[@]} == 0 ]]; then
  for d in "$here"/run/*/; do [[ -f $d/cluster.env ]] && dirs+=("${d%/}"); done
fi
timeout=${KAFKA_STOP_TIMEOUT:-30}

alive() { [[ -n $1 && -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF "kafka.Kafka $2/"; }

for dir in "${dirs[@]}"; do
  [[ -d $dir ]] || continue
  pids=()
  for f in "$dir"/broker-*.pid; do
    [[ -f $f ]] || continue
    pid=$(cat "$f")
    if alive "$pid" "$dir"; then kill -"$sig" "$pid" 2>/dev/null || true; pids+=("$pid"); fi
  done
  deadline=$((SECONDS + timeout))
  for pid in "${pids[@]}"; do
    while alive "$pid" "$dir"; do
      if (( SECONDS > deadline )); then kill -KILL "$pid" 2>/dev/null || true; fi
      sleep 0.1
    done
  done
  rm -f "$dir"/broker-*.pid "$dir/kafka.pid"
  # Only a directory start.sh made (it holds cluster.env) is ever deleted.
  if [[ $wipe == 1 && -f $dir/cluster.env ]]; then rm -rf "$dir"; fi
done
